/**
 * One experiment from a typed config to a plain, JSON-ready result: resolve the config, seed the streams
 * (init / train / test, plus one evaluation stream per length), build the model, train, evaluate.
 */
import { type ExperimentConfig, resolve, settingsOf } from "../training/config.ts";
import { initBackend } from "../platform/backend.ts";
import { peakRssMb } from "../platform/peak_rss.ts";
import { type RandomStream, restoreStream, substream } from "../task/random.ts";
import { buildModel } from "../models/model.ts";
import { train, type TrainProgress } from "../training/train.ts";
import { evaluateByLength } from "../training/evaluate.ts";
import { type RunResult, SCHEMA_VERSION } from "./results.ts";
import { runKey } from "./run_key.ts";
import { TRAINING_REVISION } from "../training/revision.ts";
import { versions } from "../platform/version.ts";
import { assignWeights, saveCheckpoint } from "../training/checkpoint.ts";
import { readSnapshot, saveSnapshot, type TrainSnapshot } from "../training/train_snapshot.ts";

export interface ExperimentOptions {
  /** Label of the run inside its sweep, e.g. "tau=5". */
  readonly variant?: string;
  readonly onProgress?: (p: TrainProgress) => void;
  /**
   * Save the trained weights to this path (safetensors, lib/training/checkpoint.ts) before the model is disposed, and
   * the weights at the moment the run first held the target for `patience` checks (where an early-stopping run
   * would have stopped) to `convergedPath(checkpoint)`.
   */
  readonly checkpoint?: string;
  /**
   * Keep a snapshot of the run in progress at `path` (lib/training/train_snapshot.ts), rewritten at a check once
   * `everySeconds` have passed, and continue from the one found there, if it is this run's. The caller removes
   * it once the run's result is safe.
   */
  readonly snapshot?: { readonly path: string; readonly everySeconds: number };
  /** One-line notes: resuming from a snapshot, or why one found was not used. */
  readonly onNote?: (text: string) => void;
  /** Called after each snapshot is written (tests use it to stop a run part-way). */
  readonly onSnapshot?: (step: number) => void;
}

/** The snapshot to continue from at `path`, with its stream, or null (noting why one found is not used). */
async function resumable(
  path: string,
  key: string,
  note: (text: string) => void,
): Promise<{ readonly from: TrainSnapshot; readonly train: RandomStream } | null> {
  const found = await readSnapshot(path, key);
  if (found === null) return null;
  if ("unusable" in found) {
    note(`snapshot ${path} not used (${found.unusable}); training from step 0`);
    return null;
  }
  try {
    return { from: found, train: restoreStream(found.train) };
  } catch (e) {
    note(`snapshot ${path} not used (${(e as Error).message}); training from step 0`);
    return null;
  }
}

/** Where a run keeps its weights at convergence, beside its checkpoint `<key>.safetensors`: `<key>.converged.safetensors`. */
export function convergedPath(checkpoint: string): string {
  return checkpoint.replace(/\.safetensors$/, "") + ".converged.safetensors";
}

/** Train and evaluate one model; the config is validated before any work. */
export async function runExperiment(
  input: ExperimentConfig,
  opts: ExperimentOptions = {},
): Promise<RunResult> {
  const config = resolve(input);
  const backend = await initBackend();
  const key = await runKey(config);
  let startedAt = new Date().toISOString();
  const note = opts.onNote ?? (() => {});
  const model = buildModel(config, substream(config.seed, "init"));
  try {
    let resume = opts.snapshot ? await resumable(opts.snapshot.path, key, note) : null;
    if (resume) {
      try {
        assignWeights(model, resume.from.weights, opts.snapshot!.path); // checks every parameter before assigning any
        note(`resuming from the snapshot at step ${resume.from.step} (${opts.snapshot!.path})`);
        startedAt = resume.from.startedAt ?? startedAt; // the run's first start
      } catch (e) {
        note(`snapshot not used (${(e as Error).message}); training from step 0`);
        resume = null;
      }
    }
    const streams = {
      train: resume?.train ?? substream(config.seed, "train"),
      test: substream(config.seed, "test"),
    };
    const snap = opts.snapshot;
    const ckpt = opts.checkpoint;
    const outcome = await train(model, config, streams, opts.onProgress, {
      from: resume?.from,
      onConverged: ckpt === undefined ? undefined : () => saveCheckpoint(model, convergedPath(ckpt), { key }),
      snapshot: snap && {
        everySeconds: snap.everySeconds,
        save: async (s) => {
          await saveSnapshot(snap.path, key, { ...s, startedAt });
          opts.onSnapshot?.(s.step);
        },
      },
    });
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
