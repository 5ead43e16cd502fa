/**
 * The one model of Recall Lab, assembled from a config:
 *
 *   V[token] (+ learned position) -> [x + mixer(LN(x))] x 2 -> LN -> readout of the last position -> K logits
 *
 * Transformer, Mamba and Hybrid differ only in their mixer list (`config.mixers`, each kind built through
 * mixers.ts) and positional encoding (`config.pe`), both from the model's row in model_table.ts. The token embedding V is fixed (numpy seed(0), unit rows), never trained.
 * Parameter names and shapes come from model_weights.ts, the mapping everything else reads weights by.
 *
 * Glossary: b batch, l length, d model dim, e Mamba inner dim (2d), n Mamba state dim, r dt rank,
 * h heads, K vocabulary size, P rows of the learned position table (3L).
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { RandomStream } from "../task/random.ts";
import { embedding } from "../task/embedding.ts";
import type { LayerNormWeights } from "./layer_norm.ts";
import { type Param, ParamStore } from "./param_store.ts";
import type { Mixer } from "./mixer.ts";
import { mixerFactory } from "./mixers.ts";
import { layersFor } from "./layers.ts";
import { modelWeights, type NormOf } from "./model_weights.ts";

export type { Param } from "./param_store.ts";

/** A weight's full name and shape (model_weights.ts). */
interface Named {
  readonly name: string;
  readonly shape: number[];
}

function initLayerNorm(store: ParamStore, norm: NormOf<Named>): LayerNormWeights {
  return {
    gain: store.constant(norm.gain.name, norm.gain.shape, 1) as tf.Variable<tf.Rank.R1>,
    bias: store.constant(norm.bias.name, norm.bias.shape, 0) as tf.Variable<tf.Rank.R1>,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The model.

/** A built model; `C` is the config it was built from (a training run's carries the whole run config). */
export interface Model<C extends ModelConfig = ModelConfig> {
  readonly config: C;
  readonly params: readonly Param[];
  /**
   * Trained parameter count: every parameter, except that the learned position table counts its first L rows only
   * (rows beyond L exist for evaluation at longer lengths and never receive a gradient).
   */
  readonly paramCount: number;
  /** Logits [b, K] at the last position of tokens [b, l]. Call inside tf.tidy. */
  logits(tokens: Int32Array, b: number, l: number): tf.Tensor2D;
  /**
   * The training loss: mean cross-entropy of the last position's logits against `labels` [b] (on the fast path
   * one fused op from the hidden states, readout_loss.ts). Call inside tf.tidy or tf.variableGrads.
   */
  loss(tokens: Int32Array, labels: Int32Array, b: number, l: number): tf.Scalar;
  /** Hidden states [b, l, d] after the mixers (before the final norm), for tests. Call inside tf.tidy. */
  hidden(tokens: Int32Array, b: number, l: number): tf.Tensor3D;
  dispose(): void;
}

/** Build the model of `config`, drawing every initial weight from `initRng`. */
export function buildModel<C extends ModelConfig>(
  config: C,
  initRng: RandomStream,
): Model<C> {
  const { K, d, maxLen } = config;
  const V = embedding(K, d); // [K, d], fixed
  const store = new ParamStore(initRng);
  const layers = layersFor(config);
  // every weight's name and shape, from the one mapping the probes and the streaming forward read them by
  const named = modelWeights(config, (name, shape): Named => ({ name, shape }));
  const pos = named.pos ? store.normal(named.pos.name, named.pos.shape, 0.1) as tf.Variable<tf.Rank.R2> : undefined; // [P, d]
  const mixers: Mixer[] = [];
  const norms: LayerNormWeights[] = [];
  named.layers.forEach((layer) => {
    norms.push(initLayerNorm(store, layer.norm));
    mixers.push(mixerFactory(layer.kind).build(store, layer.scope, config));
  });
  const finalNorm = initLayerNorm(store, named.finalNorm);
  const readout = store.uniform(
    named.readout.w.name,
    named.readout.w.shape,
    1 / Math.sqrt(d),
  ) as tf.Variable<tf.Rank.R2>;
  // nn.Linear(d, K): the bias is U(-1/sqrt(d), 1/sqrt(d)) too under "pytorch"; 0 under "scaled-normal".
  const { name: biasName, shape: biasShape } = named.readout.b;
  const readoutBias =
    (config.init === "pytorch"
      ? store.uniform(biasName, biasShape, 1 / Math.sqrt(d))
      : store.constant(biasName, biasShape, 0)) as tf.Variable<tf.Rank.R1>;

  function embed(tokens: Int32Array, b: number, l: number): tf.Tensor3D {
    if (tokens.length !== b * l) {
      throw new Error(
        `tokens has ${tokens.length} entries, expected ${b}x${l}`,
      );
    }
    if (pos && l > maxLen) {
      throw new Error(
        `length ${l} exceeds the position table (${maxLen} rows)`,
      );
    }
    const x = new Float32Array(b * l * d);
    for (let i = 0; i < b * l; i++) {
      x.set(V.subarray(tokens[i] * d, tokens[i] * d + d), i * d);
    }
    return pos ? layers.addPositions(x, b, l, pos) : tf.tensor3d(x, [b, l, d]); // [b, l, d]
  }

  function hidden(tokens: Int32Array, b: number, l: number): tf.Tensor3D {
    let x = embed(tokens, b, l); // [b, l, d]
    mixers.forEach((m, i) => {
      x = tf.add(x, m.apply(layers.layerNorm(x, norms[i]) as tf.Tensor3D)); // [b, l, d]
    });
    return x;
  }

  /**
   * The hidden states the readout reads: those of `hidden`, except that a last mixer with `applyLast` runs at the
   * last position only ([b, 1, d] then; the readout reads the last position either way).
   */
  function readoutInput(tokens: Int32Array, b: number, l: number): tf.Tensor3D {
    let x = embed(tokens, b, l); // [b, l, d]
    mixers.forEach((m, i) => {
      const normed = layers.layerNorm(x, norms[i]) as tf.Tensor3D;
      x = i === mixers.length - 1 && m.applyLast
        ? tf.add(tf.slice(x, [0, l - 1, 0], [b, 1, d]), m.applyLast(normed)) // [b, 1, d]
        : tf.add(x, m.apply(normed)); // [b, l, d]
    });
    return x;
  }

  function logits(tokens: Int32Array, b: number, l: number): tf.Tensor2D {
    const x = readoutInput(tokens, b, l);
    const last = tf.reshape(tf.slice(x, [0, x.shape[1] - 1, 0], [b, 1, d]), [b, d]); // [b, d]
    return tf.add(
      layers.linear(layers.layerNorm(last, finalNorm), readout),
      readoutBias,
    ) as tf.Tensor2D; // [b, K]
  }

  function loss(tokens: Int32Array, labels: Int32Array, b: number, l: number): tf.Scalar {
    return layers.readoutLoss(readoutInput(tokens, b, l), { norm: finalNorm, w: readout, bias: readoutBias }, labels);
  }

  return {
    config,
    params: store.params,
    paramCount: store.params.reduce((s, p) => s + p.variable.size, 0) - (pos ? (maxLen - config.L) * d : 0),
    logits,
    loss,
    hidden,
    dispose: () => store.params.forEach((p) => p.variable.dispose()),
  };
}
