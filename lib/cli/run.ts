/**
 * `deno task run`: one experiment with every knob on the command line; prints progress and a summary and
 * writes the RunResult JSON (atomically) to --out, and the trained weights to --save (a checkpoint).
 * `--load FILE` instead rebuilds a saved model and evaluates it at every length, without training.
 * For exploring recipes beyond the problem scripts.
 */
import { INIT_CHOICES, KERNEL_CHOICES, MODEL_NAMES, resolve } from "../training/config.ts";
import type { ExperimentConfig, InitScheme, Kernels, ModelName } from "../training/config.ts";
import { runExperiment } from "../store/experiment.ts";
import { removeSnapshot, SNAPSHOT_SECONDS } from "../training/train_snapshot.ts";
import { CheckpointError, loadCheckpoint, modelFromCheckpoint } from "../training/checkpoint.ts";
import { evaluateByLength } from "../training/evaluate.ts";
import { initBackend } from "../platform/backend.ts";
import { accuracyAt } from "../store/results.ts";
import type { LengthAccuracy } from "../training/record.ts";
import { writeJsonAtomic } from "../platform/atomic_write.ts";
import { ProgressBoard } from "./progress.ts";
import { TASK_FLAGS } from "./task_flags.ts";
import { cliMain, farLengthsFlag, type FlagSpec, type FlagValue, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task run --model <name> [flags]
deno task run --load <checkpoint.safetensors> [--eval-samples N] [--out FILE]

Train and evaluate one model on AR(K, d, M, L, tau); unset training flags take the model's default recipe.
With --load, evaluate a saved model at every length tau+2..3L with its stored config instead.`;

/** Flags that shape a training run (all refused with --load, which takes its config from the checkpoint). */
const TRAINING_FLAGS: readonly FlagSpec[] = [
  { name: "model", type: "string", choices: MODEL_NAMES, default: "mamba", help: "Model." },
  ...TASK_FLAGS,
  { name: "batch", type: "int", min: 1, max: 65536, help: "Minibatch size (default 64)." },
  { name: "steps", type: "int", min: 1, max: 10_000_000, help: "Step budget (default 20000)." },
  {
    name: "far-lengths",
    type: "string",
    help: 'Lengths beyond 3L to evaluate too, as multiples of L, comma-separated (default 4,8,16; "none": none).',
  },
  { name: "lr", type: "number", min: 1e-9, max: 10, help: "Peak learning rate (default: per model)." },
  { name: "heads", type: "int", min: 1, max: 1024, help: "Attention heads (default: per model)." },
  { name: "state-size", type: "int", min: 1, max: 256, help: "Mamba's state size n per channel (default 16)." },
  { name: "expand", type: "int", min: 1, max: 16, help: "Mamba's expansion e / d (default 2)." },
  { name: "conv-width", type: "int", min: 1, max: 64, help: "Mamba's causal convolution width (default 4)." },
  { name: "warmup", type: "int", min: 0, max: 10_000_000, help: "Warm-up steps (default: per model)." },
  {
    name: "clip",
    type: "number",
    min: 0,
    max: 1e9,
    help: "Global gradient-norm clip, 0 for none (default: per model).",
  },
  { name: "check-every", type: "int", min: 1, max: 1_000_000, help: "Steps between held-out checks (default 50)." },
  {
    name: "kernels",
    type: "string",
    choices: KERNEL_CHOICES,
    default: "fast",
    help: "fast: the WebAssembly kernels; reference: the same model from plain tf ops (slow; for comparison).",
  },
  {
    name: "init",
    type: "string",
    choices: INIT_CHOICES,
    default: "pytorch",
    help: "Initial weights. pytorch: nn.Linear's U(+-1/sqrt(fan_in)) for every projection and bias; " +
      "scaled-normal: attention N(0, 1/d), its out-projection scaled by 1/sqrt(2 layers), readout bias 0.",
  },
  { name: "save", type: "file", help: "Also save the trained weights to this checkpoint file (safetensors)." },
  {
    name: "snapshot",
    type: "file",
    help: "Keep a snapshot of the run in progress in this file (at a check once a minute) and resume from it when " +
      "it holds this run: a long run stopped part-way continues where it was. Removed when the run is done.",
  },
];

const FLAGS: readonly FlagSpec[] = [
  ...TRAINING_FLAGS,
  {
    name: "eval-samples",
    type: "int",
    min: 1,
    max: 1_000_000,
    help: "Test sequences per length (default 256; with --load, the checkpoint's).",
  },
  {
    name: "headline-samples",
    type: "int",
    min: 1,
    max: 1_000_000,
    help: "Test sequences at L, 2L and 3L (default 2048; with --load, the checkpoint's).",
  },
  {
    name: "out",
    type: "file",
    help: "Where to write the RunResult JSON (default run.json); with --load, the accuracies (default: none).",
  },
  {
    name: "load",
    type: "string",
    excludes: TRAINING_FLAGS.map((s) => s.name),
    help: "Evaluate the model saved in this checkpoint at every length instead of training.",
  },
];

/** The evaluation part of the summary line, shared by training and --load. */
function accuracyText(accuracyByLength: readonly LengthAccuracy[], L: number): string {
  const at = (n: number): string => {
    const a = accuracyAt({ accuracyByLength }, n);
    return a === null ? "n/a" : (100 * a).toFixed(1) + "%";
  };
  return `accuracy at L ${at(L)}, 2L ${at(2 * L)}, 3L ${at(3 * L)}`;
}

/** --load: rebuild the saved model, evaluate it at every length, print the summary line. */
async function evaluateCheckpoint(f: Record<string, FlagValue>): Promise<void> {
  const path = f.load as string;
  try {
    const ckpt = await loadCheckpoint(path);
    const evalSamples = (f["eval-samples"] as number | undefined) ?? ckpt.config.evalSamples;
    const headlineSamples = (f["headline-samples"] as number | undefined) ?? ckpt.config.headlineSamples;
    const config = resolve({ ...ckpt.config, evalSamples, headlineSamples });
    await initBackend();
    const model = modelFromCheckpoint(ckpt);
    const t0 = performance.now();
    let accuracyByLength: LengthAccuracy[];
    try {
      accuracyByLength = evaluateByLength(model, config);
    } finally {
      model.dispose();
    }
    console.error(
      `${labelOf(config)} (key ${ckpt.key}, loaded from ${path}): evaluated ${evalSamples} sequences per length ` +
        `(${((performance.now() - t0) / 1000).toFixed(1)} s); ${accuracyText(accuracyByLength, config.L)}`,
    );
    if (f.out !== undefined) {
      await writeJsonAtomic(f.out as string, { checkpoint: path, key: ckpt.key, config, accuracyByLength });
    }
  } catch (e) {
    if (e instanceof CheckpointError) throw new UsageError(e.message);
    throw e;
  }
}

function labelOf(config: Pick<ExperimentConfig, "model" | "d" | "M" | "tau" | "kernels">): string {
  return `${config.model} d=${config.d} M=${config.M} tau=${config.tau}` +
    (config.kernels === "reference" ? " (reference)" : "");
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  if (f.load !== undefined) return await evaluateCheckpoint(f);
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
    farLengths: farLengthsFlag(f["far-lengths"]),
    lr: f.lr as number | undefined,
    heads: f.heads as number | undefined,
    stateSize: f["state-size"] as number | undefined,
    expand: f.expand as number | undefined,
    convWidth: f["conv-width"] as number | undefined,
    warmup: f.warmup as number | undefined,
    clip: f.clip as number | undefined,
    evalSamples: f["eval-samples"] as number | undefined,
    headlineSamples: f["headline-samples"] as number | undefined,
    checkEvery: f["check-every"] as number | undefined,
    kernels: f.kernels as Kernels,
    init: f.init as InitScheme,
  };
  const board = new ProgressBoard();
  const label = labelOf(config);
  const snapshot = f.snapshot as string | undefined;
  const r = await runExperiment(config, {
    onProgress: (p) => board.update({ label, index: 1, total: 1, ...p }),
    checkpoint: f.save as string | undefined,
    snapshot: snapshot === undefined ? undefined : { path: snapshot, everySeconds: SNAPSHOT_SECONDS },
    onNote: (text) => board.log(text),
  });
  board.close();
  console.error(
    `${label}: ${r.verdict}${r.convergedStep ? ` at step ${r.convergedStep}` : ""} after ${r.stepsRun} steps ` +
      `(${r.timing.trainSeconds.toFixed(1)} s, ${r.timing.medianStepMs.toFixed(1)} ms/step); ` +
      accuracyText(r.accuracyByLength, r.config.L) + (f.save === undefined ? "" : `; weights saved to ${f.save}`),
  );
  await writeJsonAtomic((f.out as string | undefined) ?? "run.json", r);
  if (snapshot !== undefined) await removeSnapshot(snapshot);
});
