/**
 * What a sequence mixer is: a causal map [b, l, d] -> [b, l, d] with its own weights, the factory that draws
 * those weights from the init stream, and the table of those weights' names and shapes (`WeightTable`), which is
 * how anything holding a model's flat list of named weights (a model's params, a checkpoint, the streaming
 * forward's arrays) finds a layer's weights (model_weights.ts). Each kind lives in its own file
 * (attention_mixer.ts, mamba_mixer.ts); mixers.ts lists them all.
 *
 * Glossary: b batch, l length, d model dim.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { ParamStore } from "./param_store.ts";

/** A sequence mixer: [b, l, d] -> [b, l, d], causal. */
export interface Mixer {
  apply(x: tf.Tensor3D): tf.Tensor3D;
  /**
   * Optional: the output at the last position only, [b, 1, d]: the values of apply(x)[:, l - 1] and, for a
   * gradient that is zero before the last position, the same gradients. A model's last layer uses it when the
   * readout reads the last position (the Mamba block then skips its gate and out_proj elsewhere).
   */
  applyLast?(x: tf.Tensor3D): tf.Tensor3D;
}

/** One weight of a table: its name after the layer's scope ("in_proj.x" in "layer0.mamba.in_proj.x") and shape. */
export interface WeightSpec {
  readonly name: string;
  readonly shape: (c: ModelConfig) => number[];
}

/** A layer's weights by field, each with its name and shape, in the order the layer draws them. */
export type WeightTable<K extends string> = { readonly [F in K]: WeightSpec };

/**
 * Fetches one named weight of the flat list: a variable, a checkpoint's array, or just the name. `shape` is what
 * the table says the weight must be, for the getter to check.
 */
export type WeightGetter<T> = (name: string, shape: number[]) => T;

/** The weights of `table` in the layer named `scope`, fetched by `get` in the table's order. */
export function weightsOf<K extends string, T>(
  table: WeightTable<K>,
  scope: string,
  c: ModelConfig,
  get: WeightGetter<T>,
): { readonly [F in K]: T } {
  const out = {} as { [F in K]: T };
  for (const field of Object.keys(table) as K[]) {
    out[field] = get(`${scope}.${table[field].name}`, table[field].shape(c));
  }
  return out;
}

/** How one kind of mixer is named and built. */
export interface MixerFactory {
  /** The kind's part of its parameter names: layer `i`'s weights are named `layer<i>.<scope>.<weight>`. */
  readonly scope: string;
  /** Draw the mixer's weights from `store` (always in the same order) and return it; `name` prefixes them. */
  readonly build: (store: ParamStore, name: string, c: ModelConfig) => Mixer;
  /** The kind's weight table (`build` names its weights from it). */
  readonly weights: WeightTable<string>;
}
