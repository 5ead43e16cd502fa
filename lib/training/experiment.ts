/**
 * One experiment from a typed config to a plain, JSON-ready result: resolve the config, seed the streams
 * (init / train / test, plus one evaluation stream per length), build the model, train, evaluate.
 */
import { type ExperimentConfig, resolve, settingsOf } from "./config.ts";
import { initBackend } from "../platform/backend.ts";
import { peakRssMb } from "../platform/peak_rss.ts";
import { substream } from "../task/random.ts";
import { buildModel } from "../models/model.ts";
import { train, type TrainProgress } from "./train.ts";
import { evaluateByLength } from "./evaluate.ts";
import { type RunResult, SCHEMA_VERSION } from "../runs/results.ts";
import { runKey } from "../runs/run_key.ts";
import { TRAINING_REVISION } from "./revision.ts";
import { versions } from "../platform/version.ts";
import { saveCheckpoint } from "./checkpoint.ts";

export interface ExperimentOptions {
  /** Label of the run inside its sweep, e.g. "tau=5". */
  readonly variant?: string;
  readonly onProgress?: (p: TrainProgress) => void;
  /** Save the trained weights to this path (safetensors, lib/training/checkpoint.ts) before the model is disposed. */
  readonly checkpoint?: string;
}

/** Train and evaluate one model; the config is validated before any work. */
export async function runExperiment(
  input: ExperimentConfig,
  opts: ExperimentOptions = {},
): Promise<RunResult> {
  const config = resolve(input);
  const backend = await initBackend();
  const key = await runKey(config);
  const startedAt = new Date().toISOString();
  const model = buildModel(config, substream(config.seed, "init"));
  try {
    const streams = {
      train: substream(config.seed, "train"),
      test: substream(config.seed, "test"),
    };
    const outcome = await train(model, config, streams, opts.onProgress);
    const t0 = performance.now();
    const accuracyByLength = outcome.status === "diverged" ? [] : evaluateByLength(model, config);
    const evalSeconds = (performance.now() - t0) / 1000;
    if (opts.checkpoint !== undefined) await saveCheckpoint(model, opts.checkpoint, { key });
    return {
      schema: SCHEMA_VERSION,
      key,
      revision: TRAINING_REVISION,
      variant: opts.variant ?? "",
      config: settingsOf(config),
      status: outcome.status,
      verdict: outcome.verdict,
      baseSteps: config.steps,
      convergedStep: outcome.convergedStep,
      divergedStep: outcome.divergedStep,
      stepsRun: outcome.stepsRun,
      paramCount: model.paramCount,
      history: outcome.history,
      accuracyByLength,
      timing: {
        trainSeconds: outcome.seconds,
        evalSeconds,
        medianStepMs: outcome.medianStepMs,
        peakRssMb: Math.round(peakRssMb()),
      },
      versions: versions(),
      backend,
      startedAt,
    };
  } finally {
    model.dispose();
  }
}
