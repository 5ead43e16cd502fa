/**
 * A run's expected cost, from its settings alone (no disk, no clock): what shards are balanced by and what
 * `deno task plan` shows. It is an estimate of the seconds the run takes on one core of this project's machine
 * while a second job runs on the other core (a sweep's `--jobs 2`), for its whole fixed budget:
 *
 *   seconds = worker start + steps x step time + evaluation
 *
 * - Step time: the sum over the model's mixers of a per-layer time at d = 8 (`MIXER_STEP_MS`), times
 *   (d / 8)^`WIDTH_EXPONENT[kind]`, times batch x L / (64 x 64). The numbers are median step times of revision 3's
 *   sweeps at --jobs 2 (run files' medianStepMs, B = 64, L = 64, with the sessions' other work on the machine):
 *   Problem 2's 54 runs, two attention layers 5.9 ms at d = 8 and 125.6 at d = 64, two Mamba layers 12.3 ms at d = 8
 *   (the Hybrid, one of each, measured 10.4 against the 9.1 this gives); Problem 3's first two screens, two Mamba
 *   layers at d = 64, 173.3 and 176.4 ms. Revision 2's sweeps ran 1.5-2.1x faster (Mamba 8.5 / 83.3 ms, attention
 *   5.0 / 79.9), and their estimates were short by that much: one process alone on this machine measured Mamba 9.8 /
 *   113.7 ms and RoPE 103.8 ms at d = 64 on 2026-12-08 (bench/step_breakdown.ts) against 6.7-7.0 / 76-86 before.
 * - Evaluation: one forward pass (a third of a training step per token) over every evaluated sequence.
 */
import { type ExperimentConfig, type MixerKind, resolve } from "../training/config.ts";

/** Milliseconds per training step of one layer of each mixer kind at d = 8, B = 64, L = 64. */
export const MIXER_STEP_MS: Readonly<Record<MixerKind, number>> = {
  attention: 5.9 / 2,
  mamba: 12.3 / 2,
};

/** A layer's step time grows as (d / 8) to this power: the d = 64 over d = 8 medians, log(ratio) / log 8. */
export const WIDTH_EXPONENT: Readonly<Record<MixerKind, number>> = {
  attention: Math.log(125.6 / 5.9) / Math.log(8),
  mamba: Math.log(174.9 / 12.3) / Math.log(8),
};

/** Seconds to start a run's worker process (Deno, TF.js, the WebAssembly backend) before its first step. */
export const WORKER_START_SECONDS = 1;

/** Estimated milliseconds per training step of `config`. */
export function stepMs(config: ExperimentConfig): number {
  const c = resolve(config);
  const perLayer = c.mixers.reduce(
    (sum, kind) =>
      sum +
      MIXER_STEP_MS[kind] * (c.d / 8) ** WIDTH_EXPONENT[kind] * (kind === "mamba" ? sizeFactor(c) : lengthFactor(c.L)),
    0,
  );
  return perLayer * (c.batch * c.L) / (64 * 64);
}

/**
 * An attention layer's time per token relative to L = 64: the projections cost the same per token, the scores grow
 * with the positions attended to; assumed half and half at L = 64 (not measured at other L).
 */
function lengthFactor(L: number): number {
  return 0.5 + 0.5 * (L / 64);
}

/**
 * A Mamba layer's time relative to the default sizes (n = 16, e = 2d): proportional to e, half of it growing with
 * n (the scan) and half not (projections, convolution, gate). An assumption, not a measurement: the state-size
 * study's runs will tell.
 */
function sizeFactor(c: { expand: number; stateSize: number }): number {
  return (c.expand / 2) * (0.5 + 0.5 * (c.stateSize / 16));
}

/** Estimated seconds for the run `config` over its whole budget (see the module comment). */
export function estimatedSeconds(config: ExperimentConfig): number {
  const c = resolve(config);
  const step = stepMs(c);
  const perToken = step / (c.batch * c.L) / 3;
  const headline = new Set([c.L, 2 * c.L, 3 * c.L]);
  let evalTokens = 0;
  for (const n of c.evalLengths) evalTokens += n * (headline.has(n) ? c.headlineSamples : c.evalSamples);
  return WORKER_START_SECONDS + (c.steps * step + evalTokens * perToken) / 1000;
}
