/**
 * A model's parameters as named float32 arrays, in `model.params` order: what checkpoints (checkpoint.ts) and
 * snapshots (train_snapshot.ts) store. Kept apart from those file readers and writers so that the training loop
 * imports no file access and runs in a browser too (playground/).
 */
import type { RunModel } from "./config.ts";
import type { NamedArray } from "./safetensors.ts";

/** The model's parameters as named float32 arrays (copies), in `model.params` order. */
export function modelWeights(model: RunModel): NamedArray[] {
  return model.params.map(({ name, variable }) => ({
    name,
    shape: variable.shape,
    data: (variable.dataSync() as Float32Array).slice(),
  }));
}
