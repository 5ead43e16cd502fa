/**
 * `deno task report`: rebuild every HTML report from the results.json files alone (no training).
 */
import { writeReports } from "../report/write.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

const USAGE = `deno task report [flags]

Rebuild every problem page <out>/<id>/index.html and <out>/index.html from the results.json files, without
retraining (a results.json that does not parse is rebuilt from its run files first).`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  await writeReports(f.out as string);
  console.error(`reports rebuilt in ${f.out}`);
});
