/**
 * `deno task probe`: compute the probes (lib/probes/) of every finished run that has a checkpoint and no probe
 * file yet, writing `<out>/<id>/runs/<key>.probe.json` beside it, then rebuild the reports so the pages show
 * them. No training: the models are rebuilt from their saved weights.
 */
import { join } from "node:path";
import { readAllResults, writeReports } from "../site/write.ts";
import { loadProblems } from "../site/pages.ts";
import { probeDir } from "../probes/probe_file.ts";
import { DEFAULT_PROBE_OPTIONS } from "../probes/probe_run.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task probe [flags]

Probe the trained models of <out>/<problem>/runs from their checkpoints (<key>.safetensors): attention patterns
and scores, Mamba step sizes and retention, accuracy by query distance, by query token and by first-query
position at short lengths. Writes <key>.probe.json beside each checkpoint and rebuilds the reports.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
  { name: "problem", type: "string", help: "Only this problem (e.g. p1); default: every problem with results." },
  { name: "fresh", type: "boolean", help: "Recompute probe files that already exist." },
  {
    name: "samples",
    type: "int",
    min: 1,
    max: 10_000,
    default: DEFAULT_PROBE_OPTIONS.accuracySamples,
    help: "Sequences per bucket (distance, query, position) of the accuracy probes.",
  },
  {
    name: "trace-samples",
    type: "int",
    min: 1,
    max: 10_000,
    default: DEFAULT_PROBE_OPTIONS.traceSamples,
    help: "Sequences per length traced for the attention and Mamba statistics.",
  },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const out = f.out as string;
  const problems = await loadProblems();
  const only = f.problem as string | undefined;
  if (only !== undefined && !problems.some((p) => p.id === only)) {
    throw new UsageError(`--problem must be one of ${problems.map((p) => p.id).join(", ")}, got "${only}"`);
  }
  const results = await readAllResults(out, problems);
  const options = {
    ...DEFAULT_PROBE_OPTIONS,
    accuracySamples: f.samples as number,
    traceSamples: f["trace-samples"] as number,
  };
  for (const [id, r] of results) {
    if (only !== undefined && id !== only) continue;
    const counts = await probeDir(join(out, id), r.runs, { fresh: f.fresh === true, options });
    console.error(
      `${id}: ${counts.probed} probed, ${counts.present} already had a probe file, ${counts.noCheckpoint} without a ` +
        `checkpoint${counts.damaged === 0 ? "" : `, ${counts.damaged} with a damaged checkpoint (named above)`}`,
    );
  }
  await writeReports(out, problems);
  console.error(`reports rebuilt in ${out}`);
});
