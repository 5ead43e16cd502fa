/**
 * Length generalisation: accuracy at every length tau+2 .. 3L on fresh test sequences, from a stream of its
 * own per length so that adding or removing lengths never changes the sequences of the others.
 */
import type { ResolvedConfig } from "./config.ts";
import type { Model } from "../models/model.ts";
import { substream } from "../task/random.ts";
import { arBatch } from "../task/ar_data.ts";
import { batchAccuracy, sequencesPerForward } from "./train.ts";
import type { LengthAccuracy } from "../runs/results.ts";

/** Accuracy at every length in `config.evalLengths`, `config.evalSamples` sequences each. */
export function evaluateByLength(
  model: Model,
  config: ResolvedConfig,
): LengthAccuracy[] {
  const spec = { K: config.K, M: config.M, tau: config.tau };
  return config.evalLengths.map((length) => {
    const rng = substream(config.seed, `eval:length=${length}`);
    const batch = arBatch(rng, spec, config.evalSamples, length);
    return { length, accuracy: batchAccuracy(model, batch, sequencesPerForward(length, config.d)) };
  });
}
