/**
 * The training loop: fresh AR batches at length L every step, cross-entropy on the value token, Adam with
 * warm-up and clipping, a check on a fixed held-out test batch every `checkEvery` steps, and divergence
 * detection (NaN or infinite loss, the only thing that ends a run before its budget).
 *
 * Fixed budget (training revision 3): every run trains exactly `steps` steps. The first step of the first
 * `patience` consecutive checks at or above `target` is recorded as the convergence step, and training goes on;
 * the outcome's verdict says whether the run converged, or, if not, whether it was still improving at the end
 * (lib/training/plateau.ts) or had plateaued. Nothing else decides when a run stops.
 *
 * Snapshots (lib/training/train_snapshot.ts): with `resume.snapshot` the loop hands its whole state to `save` at
 * a held-out check once `everySeconds` have passed since the last; with `resume.from` it continues from such a
 * state (the model already holding its weights, `streams.train` restored) and ends as the run would have.
 */
import * as tf from "@tensorflow/tfjs";
import { median } from "../stats/median.ts";
import type { ResolvedConfig, RunModel } from "./config.ts";
import type { RandomStream } from "../task/random.ts";
import { type ArBatch, arBatch } from "../task/ar_data.ts";
import { Adam } from "./adam.ts";
import type { HistoryPoint, RunStatus, RunVerdict } from "./record.ts";
import { stillImproving } from "./plateau.ts";
import type { TrainSnapshot } from "./train_snapshot.ts";
import { modelWeights } from "./weight_arrays.ts";

export { crossEntropy } from "../models/cross_entropy.ts";

/** What a training run reports at every check (for progress lines). */
export interface TrainProgress {
  readonly step: number;
  /** The run's step budget. */
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly stepsPerSecond: number;
}

export interface TrainOutcome {
  readonly status: RunStatus;
  readonly verdict: RunVerdict;
  readonly convergedStep: number | null;
  readonly divergedStep: number | null;
  readonly stepsRun: number;
  readonly history: readonly HistoryPoint[];
  readonly medianStepMs: number;
  readonly seconds: number;
}

/** Continuing from a snapshot, and taking them. */
export interface TrainResume {
  /** The state to continue from (its weights already assigned to the model, the train stream restored). */
  readonly from?: TrainSnapshot;
  /** Hand a snapshot to `save` at a check once `everySeconds` have passed since the start or the last one. */
  readonly snapshot?: { readonly everySeconds: number; readonly save: (s: TrainSnapshot) => Promise<void> };
  /**
   * Called once, at the check that first completes `patience` passing checks: the moment an early-stopping run would
   * have stopped (revision 2's runs did), with the model as it is then. Changes nothing in training.
   */
  readonly onConverged?: (step: number) => Promise<void>;
}

export interface TrainStreams {
  readonly train: RandomStream;
  readonly test: RandomStream;
}

/** Fraction of rows whose argmax over logits [b, K] equals the label. */
export function accuracyOf(
  logits: Float32Array,
  labels: Int32Array,
  K: number,
): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) {
      if (logits[i * K + k] > logits[i * K + best]) best = k;
    }
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** Evaluation budget: sequences x length x max(d, 8) floats per forward pass (32768 tokens at d = 8). */
const FORWARD_BUDGET = 32768 * 8;

/**
 * Sequences per forward pass when scoring sequences of `length` with a width-`d` model (1 .. 512): a fixed
 * budget of activations, so a d = 64 model at length 3L does not hold 8x the memory of a d = 8 one (the
 * d = 64 Mamba workers peaked at ~690 MB with a budget in tokens alone). Each sequence's logits are the same
 * whatever the chunk (checked: bit-identical), so this changes memory and nothing else.
 */
export function sequencesPerForward(length: number, d: number): number {
  return Math.max(1, Math.min(512, Math.floor(FORWARD_BUDGET / (length * Math.max(d, 8)))));
}

/** Accuracy of the model on one batch, in chunks of at most `chunk` sequences. */
export function batchAccuracy(
  model: RunModel,
  batch: ArBatch,
  chunk = 256,
): number {
  const { K } = model.config;
  const l = batch.length;
  let correct = 0;
  for (let start = 0; start < batch.batch; start += chunk) {
    const b = Math.min(chunk, batch.batch - start);
    const tokens = batch.tokens.subarray(start * l, (start + b) * l);
    const out = tf.tidy(() => model.logits(tokens, b, l).dataSync() as Float32Array);
    correct += accuracyOf(out, batch.labels.subarray(start, start + b), K) * b;
  }
  return correct / batch.batch;
}

/**
 * The convergence step: the step of the first of the first `patience` consecutive checks at or above `target`, or
 * null when the history has no such run of checks.
 */
export function convergenceStep(history: readonly HistoryPoint[], target: number, patience: number): number | null {
  let passing = 0;
  for (let i = 0; i < history.length; i++) {
    passing = history[i].accuracy >= target ? passing + 1 : 0;
    if (passing >= patience) return history[i - patience + 1].step;
  }
  return null;
}

/** Train `model` per `config`; `onCheck` is called after every held-out check. */
export async function train(
  model: RunModel,
  config: ResolvedConfig,
  streams: TrainStreams,
  onCheck?: (p: TrainProgress) => void,
  resume: TrainResume = {},
): Promise<TrainOutcome> {
  const spec = { K: config.K, M: config.M, tau: config.tau };
  const testBatch = arBatch(streams.test, spec, config.testBatch, config.L);
  const vars = model.params.map((p) => p.variable);
  const adam = new Adam(vars, {
    lr: config.lr,
    warmup: config.warmup,
    clip: config.clip,
  });
  const from = resume.from;
  if (from) adam.restore(from.adam);
  const history: HistoryPoint[] = from ? [...from.history] : [];
  const stepMs: number[] = from ? [...from.stepMs] : [];
  const secondsBefore = from?.seconds ?? 0;
  const t0 = performance.now();
  let step = from?.step ?? 0;
  const cap = config.steps;
  let lastCheckTime = t0, lastCheckStep = step, passing = from?.passing ?? 0, lastSnapshot = t0;
  let divergedStep: number | null = null;
  while (step < cap) {
    step++;
    const ts = performance.now();
    const batch = arBatch(streams.train, spec, config.batch, config.L);
    const { value, grads } = tf.variableGrads(
      () => model.loss(batch.tokens, batch.labels, config.batch, config.L),
      vars,
    );
    const loss = value.dataSync()[0];
    if (!Number.isFinite(loss)) {
      tf.dispose([value, ...Object.values(grads)]);
      divergedStep = step;
      break;
    }
    adam.step(vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
    stepMs.push(performance.now() - ts);
    if (step % config.checkEvery === 0 || step === cap) {
      const accuracy = batchAccuracy(model, testBatch, Math.min(256, sequencesPerForward(config.L, config.d)));
      history.push({ step, loss, accuracy });
      const now = performance.now();
      onCheck?.({
        step,
        steps: cap,
        loss,
        accuracy,
        stepsPerSecond: (step - lastCheckStep) / ((now - lastCheckTime) / 1000),
      });
      lastCheckTime = now;
      lastCheckStep = step;
      passing = accuracy >= config.target ? passing + 1 : 0;
      const first = passing === config.patience &&
        convergenceStep(history, config.target, config.patience) === history[history.length - passing].step;
      if (first) await resume.onConverged?.(step);
      if (resume.snapshot && (now - lastSnapshot) / 1000 >= resume.snapshot.everySeconds) {
        await resume.snapshot.save({
          step,
          cap,
          passing,
          history: [...history],
          stepMs: [...stepMs],
          seconds: secondsBefore + (performance.now() - t0) / 1000,
          weights: modelWeights(model),
          adam: adam.state(),
          train: streams.train.snapshot(),
        });
        lastSnapshot = performance.now();
      }
      // Let timers and signal handlers run between checks.
      await new Promise((r) => setTimeout(r, 0));
    }
  }
  const convergedStep = convergenceStep(history, config.target, config.patience);
  const status: RunStatus = divergedStep !== null ? "diverged" : convergedStep !== null ? "converged" : "cap";
  const verdict: RunVerdict = status === "cap" ? (stillImproving(history) ? "still improving" : "plateaued") : status;
  return {
    status,
    verdict,
    convergedStep,
    divergedStep,
    stepsRun: step,
    history,
    medianStepMs: stepMs.length === 0 ? 0 : median(stepMs),
    seconds: secondsBefore + (performance.now() - t0) / 1000,
  };
}
