/**
 * `deno task long-eval`: a problem's trained models at lengths beyond what its runs evaluated themselves (2^15 to
 * 2^20 tokens by default), from their checkpoints, with the streaming evaluator; `<key>.long.json` and, with
 * `--converged`, `<key>.converged.long.json` beside each run. Resumes where it stopped. No training.
 */
import { join } from "node:path";
import { readAllResults } from "../site/write.ts";
import { loadProblems } from "../site/pages.ts";
import { evaluateLongDir, type WhichWeights } from "../probes/long_file.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";
import { MAX_LONG_SAMPLES, MAX_STREAM_LENGTH } from "../training/evaluate_long.ts";
import { MODEL_NAMES, type ModelName, modelSpec } from "../models/model_table.ts";

const USAGE = `deno task long-eval --problem <id> [flags]

Evaluate the Mamba and Hybrid runs of <out>/<problem> from their checkpoints at long lengths (default every power of
two from 2^15 to 2^20 tokens, 64 sequences each), in memory that does not grow with the length. Writes
<key>.long.json (and <key>.converged.long.json with --converged) beside each run; resumes a file part-way done.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
  { name: "problem", type: "string", default: "length", help: "The problem whose runs to evaluate." },
  { name: "from", type: "int", min: 1, max: 30, default: 15, help: "Shortest length, as a power of two." },
  { name: "to", type: "int", min: 1, max: 30, default: 20, help: "Longest length, as a power of two." },
  { name: "samples", type: "int", min: 1, max: MAX_LONG_SAMPLES, default: 64, help: "Sequences per length." },
  { name: "converged", type: "boolean", help: "Also the weights kept when each run first held 99%." },
  {
    name: "models",
    type: "string",
    help: "Only these models, comma-separated (default: every model with a Mamba layer, whose memory does not grow " +
      "with the length the way attention's does).",
  },
];

/** The models to evaluate: --models, checked against the model table, or every model with a Mamba layer. */
function modelsFlag(raw: unknown): readonly ModelName[] {
  const streamed = MODEL_NAMES.filter((m) => modelSpec(m).mixers.includes("mamba"));
  if (raw === undefined) return streamed;
  const names = String(raw).split(",").map((x) => x.trim());
  const bad = names.find((n) => !(streamed as readonly string[]).includes(n));
  if (bad !== undefined) throw new UsageError(`--models must name some of ${streamed.join(", ")}, got "${bad}"`);
  return names as ModelName[];
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const out = f.out as string;
  const problems = await loadProblems();
  const id = f.problem as string;
  if (!problems.some((p) => p.id === id)) {
    throw new UsageError(`--problem must be one of ${problems.map((p) => p.id).join(", ")}, got "${id}"`);
  }
  const models = modelsFlag(f.models);
  const from = f.from as number, to = f.to as number;
  if (from > to || 2 ** to > MAX_STREAM_LENGTH) {
    throw new UsageError(`--from must not exceed --to, and 2^--to at most ${MAX_STREAM_LENGTH}, got ${from}..${to}`);
  }
  const results = (await readAllResults(out, problems)).get(id);
  if (results === undefined) throw new UsageError(`no results in ${join(out, id)} (run deno task ${id} first)`);
  const recurrent = results.runs.filter((r) => models.includes(r.config.model));
  const lengths = Array.from({ length: to - from + 1 }, (_, i) => 2 ** (from + i));
  const weights: WhichWeights[] = f.converged === true ? ["final", "converged"] : ["final"];
  const counts = await evaluateLongDir(join(out, id), recurrent, { lengths, samples: f.samples as number, weights });
  console.error(
    `${id}: ${counts.evaluated} evaluated, ${counts.complete} already complete, ${counts.noCheckpoint} without the ` +
      `checkpoint${counts.damaged === 0 ? "" : `, ${counts.damaged} damaged (named above)`}`,
  );
});
