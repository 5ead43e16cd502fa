/**
 * Length generalisation: accuracy at every length tau+2 .. 3L on fresh test sequences, from a stream of its
 * own per length so that adding or removing lengths never changes the sequences of the others.
 */
import type { ResolvedConfig, RunModel } from "./config.ts";
import { substream } from "../task/random.ts";
import { arBatch } from "../task/ar_data.ts";
import { batchAccuracy, sequencesPerForward } from "./train.ts";
import type { LengthAccuracy } from "./record.ts";

/** The lengths headlines and tables quote: L, 2L and 3L. */
export function headlineLengths(config: Pick<ResolvedConfig, "L">): number[] {
  return [config.L, 2 * config.L, 3 * config.L];
}

/** Test sequences scored at `length`: `headlineSamples` at L, 2L and 3L, `evalSamples` at every other length. */
export function samplesAt(
  config: Pick<ResolvedConfig, "L" | "evalSamples" | "headlineSamples">,
  length: number,
): number {
  return headlineLengths(config).includes(length) ? config.headlineSamples : config.evalSamples;
}

/**
 * Accuracy at every length in `config.evalLengths`, `samplesAt(config, length)` sequences each. A length's
 * sequences are the first ones of its stream, so a larger count only adds sequences after the same ones.
 */
export function evaluateByLength(
  model: RunModel,
  config: ResolvedConfig,
): LengthAccuracy[] {
  const spec = { K: config.K, M: config.M, tau: config.tau };
  return config.evalLengths.map((length) => {
    const rng = substream(config.seed, `eval:length=${length}`);
    const samples = samplesAt(config, length);
    const batch = arBatch(rng, spec, samples, length);
    return { length, accuracy: batchAccuracy(model, batch, sequencesPerForward(length, config.d)), samples };
  });
}
