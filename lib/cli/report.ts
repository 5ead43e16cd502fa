/**
 * `deno task report`: rebuild every HTML report from the results.json files alone (no training).
 */
import { mergeResultsFiles, readAllResults, writeReports } from "../site/write.ts";
import { loadProblems } from "../site/pages.ts";
import { probeDir } from "../probes/probe_file.ts";
import { join } from "node:path";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task report [flags]

Rebuild every problem page <out>/<id>/index.html and <out>/index.html from the results.json files, without
retraining (a results.json that does not parse is rebuilt from its run files first; runs it lists as pending
that other shards or sweeps have finished since are merged into it first).`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
  {
    name: "probe",
    type: "boolean",
    help: "First probe every run that has a checkpoint and no probe file (lib/probes/).",
  },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const problems = await loadProblems();
  if ((await readAllResults(f.out as string, problems)).size === 0) {
    // Nothing to rebuild: say so before writing anything (an index page into a new folder would look like success).
    throw new UsageError(
      `no results in ${f.out} (no <problem>/results.json or run files there; run deno task p1 first)`,
    );
  }
  await mergeResultsFiles(f.out as string, problems);
  if (f.probe === true) {
    for (const [id, r] of await readAllResults(f.out as string, problems)) {
      await probeDir(join(f.out as string, id), r.runs);
    }
  }
  await writeReports(f.out as string, problems);
  console.error(`reports rebuilt in ${f.out}`);
});
