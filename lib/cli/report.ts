/**
 * `deno task report`: rebuild every HTML report from the results.json files alone (no training).
 */
import { writeReports } from "../report/write.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

const USAGE = `deno task report [flags]

Rebuild <out>/pN/index.html and <out>/index.html from <out>/pN/results.json, without retraining.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "string", default: "reports", help: "Folder holding p1/, p2/, p3/." },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  await writeReports(f.out as string);
  console.error(`reports rebuilt in ${f.out}`);
});
