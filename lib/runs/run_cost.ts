/**
 * A run's expected cost, from its settings alone (no disk, no clock): what shards are balanced by and what
 * `deno task plan` shows. It is an estimate of the seconds the run takes on one core of this project's machine
 * at its base step cap (a run that converges stops sooner; one that is continued takes longer):
 *
 *   seconds = worker start + steps x step time + evaluation
 *
 * - Step time: the sum over the model's mixers of a per-layer time at d = 8 (`MIXER_STEP_MS`), times
 *   (d / 8)^`WIDTH_EXPONENT`, times batch x L / (64 x 64). Per-layer times are README "Performance"'s bench
 *   medians at B = 64, L = 64 split over the layers (tf-nope 3.5 ms for two attention layers, Mamba 8.5 ms for
 *   two Mamba layers; the Hybrid, one of each, measured 5.9 ms against the 6.0 this gives). The width exponent
 *   fits Mamba at d = 64 (116 ms against 8.5 ms at d = 8: 13.6x for 8x the width); attention at d = 64 is
 *   unmeasured and assumed to scale alike.
 * - Evaluation: one forward pass (a third of a training step per token) over every evaluated sequence.
 */
import { type ExperimentConfig, type MixerKind, resolve } from "../training/config.ts";

/** Milliseconds per training step of one layer of each mixer kind at d = 8, B = 64, L = 64. */
export const MIXER_STEP_MS: Readonly<Record<MixerKind, number>> = {
  attention: 1.75,
  mamba: 4.25,
};

/** Step time grows as (d / 8) to this power (Mamba: 116 / 8.5 ms from d = 8 to 64, log 13.6 / log 8). */
export const WIDTH_EXPONENT = Math.log(116 / 8.5) / Math.log(8);

/** Seconds to start a run's worker process (Deno, TF.js, the WebAssembly backend) before its first step. */
export const WORKER_START_SECONDS = 1;

/** Estimated milliseconds per training step of `config`. */
export function stepMs(config: ExperimentConfig): number {
  const c = resolve(config);
  const perLayer = c.mixers.reduce((sum, kind) => sum + MIXER_STEP_MS[kind], 0);
  return perLayer * (c.d / 8) ** WIDTH_EXPONENT * (c.batch * c.L) / (64 * 64);
}

/** Estimated seconds for the run `config` at its base step cap (see the module comment). */
export function estimatedSeconds(config: ExperimentConfig): number {
  const c = resolve(config);
  const step = stepMs(c);
  const perToken = step / (c.batch * c.L) / 3;
  const headline = new Set([c.L, 2 * c.L, 3 * c.L]);
  let evalTokens = 0;
  for (const n of c.evalLengths) evalTokens += n * (headline.has(n) ? c.headlineSamples : c.evalSamples);
  return WORKER_START_SECONDS + (c.steps * step + evalTokens * perToken) / 1000;
}
