/**
 * One experiment from a typed config to a plain, JSON-ready result: resolve the config, seed the streams
 * (init / train / test, plus one evaluation stream per length), build the model, train, evaluate.
 */
import * as tf from "@tensorflow/tfjs";
import { type ExperimentConfig, resolve, type ResolvedConfig } from "./config.ts";
import { initBackend } from "../platform/backend.ts";
import { peakRssMb } from "../platform/peak_rss.ts";
import { substream } from "../task/random.ts";
import { buildModel } from "../models/model.ts";
import { train, type TrainProgress } from "./train.ts";
import { evaluateByLength } from "./evaluate.ts";
import { type RunResult, SCHEMA_VERSION, type Versions } from "../runs/results.ts";
import { RECALL_LAB_VERSION } from "../platform/version.ts";
import { saveCheckpoint } from "./checkpoint.ts";

/** JSON with object keys sorted, so equal configs always hash alike. */
function stableJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(
          Object.entries(v).sort(([a], [b]) => a.localeCompare(b)),
        )
        : v,
  );
}

/** The run's identity: the first 16 hex digits of SHA-256 over the resolved config (seed included). */
export async function runKey(config: ResolvedConfig): Promise<string> {
  const bytes = new TextEncoder().encode(
    stableJson({ recallLab: RECALL_LAB_VERSION, config }),
  );
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest.slice(0, 8), (x) => x.toString(16).padStart(2, "0"))
    .join("");
}

/** Versions of everything that can change a result. */
export function versions(): Versions {
  return {
    recallLab: RECALL_LAB_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    tfjs: tf.version.tfjs,
  };
}

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
      variant: opts.variant ?? "",
      config,
      status: outcome.status,
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
