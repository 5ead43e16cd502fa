/**
 * Recipe evidence for Problem 1: the NoPE Transformer under several heads x learning rates at the Problem 1
 * setting (K=16, d=8, M=1, L=64, tau=1). Each run is written to <out>/recipes/<model>_heads<h>_lr<lr>.json as
 * soon as it finishes (skipped when already there; --fresh retrains); the Problem 1 report shows them.
 */
import { join } from "node:path";
import { type ExperimentConfig, resolve } from "../lib/training/config.ts";
import { runExperiment, runKey } from "../lib/training/experiment.ts";
import { readFinishedRun } from "../lib/runs/sweep.ts";
import { writeJsonAtomic } from "../lib/runs/atomic_write.ts";
import { writeReports } from "../lib/report/write.ts";
import { ProgressBoard } from "../lib/cli/progress.ts";
import { cliMain, type FlagSpec, parseFlags } from "../lib/cli/flags.ts";

const USAGE = `deno task recipes [flags]

The NoPE Transformer at the Problem 1 setting (tau=1) under heads 1, 2, 4 x learning rates 3e-3, 1e-2,
one run each; written to <out>/recipes/ and shown on the Problem 1 report. (Whether the default recipe only
needs more steps is answered by Problem 1 itself, whose Transformer cap is 20000.)`;

const FLAGS: readonly FlagSpec[] = [
  { name: "steps", type: "int", min: 1, max: 1_000_000, default: 6000, help: "Step cap per recipe." },
  { name: "out", type: "string", default: "reports", help: "Reports folder (runs go to <out>/recipes)." },
  { name: "fresh", type: "boolean", help: "Retrain recipes that are already finished." },
];

const HEADS = [4, 2, 1];
const LRS = ["1e-2", "3e-3"];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const out = f.out as string;
  const recipe = (heads: number, lr: string, steps: number) => ({
    file: join(out, "recipes", `tf-nope_heads${heads}_lr${lr}.json`),
    config: {
      model: "tf-nope",
      K: 16,
      d: 8,
      M: 1,
      L: 64,
      tau: 1,
      seed: 0,
      heads,
      lr: Number(lr),
      steps,
    } as ExperimentConfig,
  });
  const cap = f.steps as number;
  const jobs = HEADS.flatMap((heads) => LRS.map((lr) => recipe(heads, lr, cap)));
  const board = new ProgressBoard();
  for (const [i, job] of jobs.entries()) {
    const key = await runKey(resolve(job.config));
    const label = `tf-nope heads=${job.config.heads} lr=${job.config.lr}`;
    if (!f.fresh && await readFinishedRun(job.file, key)) {
      board.log(`[${i + 1}/${jobs.length}] ${label}: finished run found, skipped; --fresh retrains`);
      continue;
    }
    const r = await runExperiment(job.config, {
      variant: `heads=${job.config.heads} lr=${job.config.lr}`,
      onProgress: (p) => board.update({ label, index: i + 1, total: jobs.length, ...p }),
    });
    board.finish(i + 1);
    await writeJsonAtomic(job.file, r);
    board.log(`[${i + 1}/${jobs.length}] ${label}: ${r.status} after ${r.stepsRun} steps`);
  }
  board.close();
  await writeReports(out);
});
