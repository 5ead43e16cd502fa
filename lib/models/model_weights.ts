/**
 * Where each weight of a model sits in its flat list of named weights: `model.params`, a checkpoint's tensors
 * (lib/training/checkpoint.ts) and the streaming forward's arrays (long_forward.ts) all hold
 *
 *   pos                                   [P, d]  (learned positions only)
 *   layer<i>.norm.gain, layer<i>.norm.bias [d]
 *   layer<i>.<scope>.<weight>             the mixer kind's table: mixers.ts MIXERS[kind].weights, i.e.
 *                                         attention_mixer.ts ATTENTION_WEIGHTS or mamba_mixer.ts MAMBA_WEIGHTS
 *   final_norm.gain, final_norm.bias      [d]
 *   readout.w [d, K], readout.b [K]
 *
 * `modelWeights` is that mapping, written once: it fetches every weight through a getter, in the order model.ts
 * creates them, and model.ts takes its own names from it, so a name changed here changes everywhere.
 *
 * Glossary: d model dim, K vocabulary, P rows of the learned position table (maxLen).
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { MixerKind } from "./model_table.ts";
import { type WeightGetter, weightsOf } from "./mixer.ts";
import { mixerFactory } from "./mixers.ts";
import type { AttentionWeights } from "./attention.ts";
import type { MambaWeights } from "./mamba_mixer.ts";
import type { LayerNormWeights } from "./layer_norm.ts";
import type { Param } from "./param_store.ts";

/** A LayerNorm's gain and bias, [d] each. */
export interface NormOf<T> {
  readonly gain: T;
  readonly bias: T;
}

/** Each mixer kind's weights by field (its weight table's fields); a new kind must be added here too. */
interface MixerWeightsOf<T> {
  readonly attention: { readonly [F in keyof AttentionWeights]: T };
  readonly mamba: { readonly [F in keyof MambaWeights]: T };
}

/** One residual layer: its mixer kind, the scope its mixer's names start with, its norm and its mixer's weights. */
export type LayerWeightsOf<T> = {
  [K in MixerKind]: {
    readonly kind: K;
    readonly scope: string;
    readonly norm: NormOf<T>;
    readonly mixer: MixerWeightsOf<T>[K];
  };
}[MixerKind];

/** A model's weights by layer, each a `T` (a tensor, an array, a name...). */
export interface ModelWeightsOf<T> {
  readonly pos: T | undefined; // [P, d], learned positions only
  readonly layers: readonly LayerWeightsOf<T>[];
  readonly finalNorm: NormOf<T>;
  readonly readout: { readonly w: T; readonly b: T }; // [d, K], [K]
}

/** Every weight of a model of config `c`, fetched by `get` (name and expected shape) in creation order. */
export function modelWeights<T>(c: ModelConfig, get: WeightGetter<T>): ModelWeightsOf<T> {
  const norm = (name: string): NormOf<T> => ({ gain: get(`${name}.gain`, [c.d]), bias: get(`${name}.bias`, [c.d]) });
  const pos = c.pe === "learned" ? get("pos", [c.maxLen, c.d]) : undefined;
  const layers = c.mixers.map((kind, i) => {
    const factory = mixerFactory(kind);
    const scope = `layer${i}.${factory.scope}`;
    const layerNorm = norm(`layer${i}.norm`); // before the mixer's weights, as model.ts draws them
    return { kind, scope, norm: layerNorm, mixer: weightsOf(factory.weights, scope, c, get) } as LayerWeightsOf<T>;
  });
  const finalNorm = norm("final_norm");
  return { pos, layers, finalNorm, readout: { w: get("readout.w", [c.d, c.K]), b: get("readout.b", [c.K]) } };
}

/** Each mixer kind's weights as its layer functions take them. */
interface MixerTensors {
  readonly attention: AttentionWeights;
  readonly mamba: MambaWeights;
}

/** One layer's weights as tensors, typed as the layers take them. */
export type LayerTensors = {
  [K in MixerKind]: {
    readonly kind: K;
    readonly scope: string;
    readonly norm: LayerNormWeights;
    readonly mixer: MixerTensors[K];
  };
}[MixerKind];

/** A built model's weights as tensors, typed as the layers take them. */
export interface ModelTensors {
  readonly pos: tf.Tensor2D | undefined;
  readonly layers: readonly LayerTensors[];
  readonly finalNorm: LayerNormWeights;
  readonly readout: { readonly w: tf.Tensor2D; readonly b: tf.Tensor1D };
}

/**
 * The weights of a model built for `c` from its `params` (`model.params`), by layer; throws naming a parameter that
 * is missing or whose shape is not the table's.
 */
export function modelTensors(c: ModelConfig, params: readonly Param[]): ModelTensors {
  const byName = new Map(params.map((p) => [p.name, p.variable]));
  const weights = modelWeights(c, (name, shape) => {
    const v = byName.get(name);
    if (v === undefined) throw new Error(`the ${c.model} model has no parameter "${name}"`);
    if (v.shape.length !== shape.length || v.shape.some((n, i) => n !== shape[i])) {
      throw new Error(`the ${c.model} model's "${name}" is [${v.shape}], expected [${shape}]`);
    }
    return v as tf.Tensor;
  });
  return weights as unknown as ModelTensors; // each tensor's rank is its checked shape's
}
