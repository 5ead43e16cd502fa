/**
 * `deno task run`: one experiment with every knob on the command line; prints progress and a summary and
 * writes the RunResult JSON (atomically) to --out. For exploring recipes beyond the problem scripts.
 */
import { KERNEL_CHOICES, MODEL_NAMES } from "../training/config.ts";
import type { ExperimentConfig, Kernels, ModelName } from "../training/config.ts";
import { runExperiment } from "../training/experiment.ts";
import { writeJsonAtomic } from "../runs/atomic_write.ts";
import { ProgressBoard } from "./progress.ts";
import { TASK_FLAGS } from "./task_flags.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

const USAGE = `deno task run --model <name> [flags]

Train and evaluate one model on AR(K, d, M, L, tau); unset training flags take the model's default recipe.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "model", type: "string", choices: MODEL_NAMES, default: "mamba", help: "Model." },
  ...TASK_FLAGS,
  { name: "batch", type: "int", min: 1, max: 65536, help: "Minibatch size (default 64)." },
  { name: "steps", type: "int", min: 1, max: 10_000_000, help: "Step cap (default 20000)." },
  { name: "lr", type: "number", min: 1e-9, max: 10, help: "Peak learning rate (default: per model)." },
  { name: "heads", type: "int", min: 1, max: 1024, help: "Attention heads (default: per model)." },
  { name: "warmup", type: "int", min: 0, max: 10_000_000, help: "Warm-up steps (default: per model)." },
  {
    name: "clip",
    type: "number",
    min: 0,
    max: 1e9,
    help: "Global gradient-norm clip, 0 for none (default: per model).",
  },
  { name: "eval-samples", type: "int", min: 1, max: 1_000_000, help: "Test sequences per length (default 256)." },
  { name: "check-every", type: "int", min: 1, max: 1_000_000, help: "Steps between held-out checks (default 50)." },
  {
    name: "kernels",
    type: "string",
    choices: KERNEL_CHOICES,
    default: "fast",
    help: "fast: the WebAssembly kernels; reference: the same model from plain tf ops (slow; for comparison).",
  },
  { name: "out", type: "string", default: "run.json", help: "Where to write the RunResult JSON." },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const config: ExperimentConfig = {
    model: f.model as ModelName,
    K: f.K as number,
    d: f.d as number,
    M: f.M as number,
    L: f.L as number,
    tau: f.tau as number,
    seed: f.seed as number,
    batch: f.batch as number | undefined,
    steps: f.steps as number | undefined,
    lr: f.lr as number | undefined,
    heads: f.heads as number | undefined,
    warmup: f.warmup as number | undefined,
    clip: f.clip as number | undefined,
    evalSamples: f["eval-samples"] as number | undefined,
    checkEvery: f["check-every"] as number | undefined,
    kernels: f.kernels as Kernels,
  };
  const board = new ProgressBoard();
  const label = `${config.model} d=${config.d} M=${config.M} tau=${config.tau}` +
    (config.kernels === "reference" ? " (reference)" : "");
  const r = await runExperiment(config, { onProgress: (p) => board.update({ label, index: 1, total: 1, ...p }) });
  board.close();
  const atL = r.accuracyByLength.find((a) => a.length === r.config.L)?.accuracy;
  console.error(
    `${label}: ${r.status}${r.convergedStep ? ` at step ${r.convergedStep}` : ""} after ${r.stepsRun} steps ` +
      `(${r.timing.trainSeconds.toFixed(1)} s, ${r.timing.medianStepMs.toFixed(1)} ms/step); ` +
      `accuracy at L ${atL === undefined ? "n/a" : (100 * atL).toFixed(1) + "%"}`,
  );
  await writeJsonAtomic(f.out as string, r);
});
