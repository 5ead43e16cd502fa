/**
 * The model's forward pass re-traced layer by layer from its parameters (by name, as lib/models/model.ts and
 * the mixer files create them), keeping what the probes read: each attention layer's softmax weights
 * (lib/models/attention.ts attentionWithWeights, the plain tf-op reference) and each Mamba layer's step sizes delta (mamba_internals.ts). Layer outputs come from
 * the same math as the model (attention from the tf-op reference, the Mamba core from the model's own layer
 * implementation), and tests/probe_forward_test.ts checks the logits against `model.logits`.
 *
 *   V[token] (+ pos) -> [x + mixer(LN(x))] per layer -> LN -> readout of the last position
 *
 * Glossary: b batch, l length, d model dim, e Mamba inner dim, h heads, K vocabulary.
 */
import type { RunModel } from "../training/config.ts";
import * as tf from "@tensorflow/tfjs";
import type { MixerKind } from "../models/mixers.ts";
import { MIXERS } from "../models/mixers.ts";
import { layerNorm, type LayerNormWeights } from "../models/layer_norm.ts";
import { layersFor } from "../models/layers.ts";
import type { MambaCoreWeights } from "../models/mamba_core.ts";
import { embedding } from "../task/embedding.ts";
import { attentionWithWeights } from "../models/attention.ts";
import { mambaDelta } from "./mamba_internals.ts";

/** What one layer shows a probe, as typed arrays with their shapes. */
export type LayerTrace =
  | { readonly kind: "attention"; readonly heads: number; readonly weights: Float32Array } // [b, h, l, l]
  | { readonly kind: "mamba"; readonly e: number; readonly delta: Float32Array }; // [b, l, e]

export interface ForwardTrace {
  readonly layers: readonly LayerTrace[];
  /** [b, K] logits at the last position. */
  readonly logits: Float32Array;
}

/** The model's parameters by name (throws naming a missing one). */
function paramGetter(model: RunModel): (name: string) => tf.Variable {
  const byName = new Map(model.params.map((p) => [p.name, p.variable]));
  return (name) => {
    const v = byName.get(name);
    if (v === undefined) throw new Error(`probe: the ${model.config.model} model has no parameter "${name}"`);
    return v;
  };
}

function normOf(get: (name: string) => tf.Variable, name: string): LayerNormWeights {
  return { gain: get(`${name}.gain`) as tf.Tensor1D, bias: get(`${name}.bias`) as tf.Tensor1D };
}

/** The Mamba core's weights of the block named `p` (e.g. "layer0.mamba"). */
export function mambaWeightsOf(get: (name: string) => tf.Variable, p: string): MambaCoreWeights {
  return {
    convW: get(`${p}.conv.w`) as tf.Tensor2D,
    convB: get(`${p}.conv.b`) as tf.Tensor1D,
    xProj: get(`${p}.x_proj`) as tf.Tensor2D,
    dtProj: get(`${p}.dt_proj.w`) as tf.Tensor2D,
    dtBias: get(`${p}.dt_proj.b`) as tf.Tensor1D,
    aLog: get(`${p}.A_log`) as tf.Tensor2D,
    D: get(`${p}.D`) as tf.Tensor1D,
  };
}

/** The scope names the probes know how to trace, checked against the mixer registry. */
const TRACED: Record<MixerKind, true> = { attention: true, mamba: true };

/** Run `model` on tokens [b, l] and keep every layer's trace; leaves no tensor behind. */
export function traceForward(model: RunModel, tokens: Int32Array, b: number, l: number): ForwardTrace {
  const c = model.config;
  if (tokens.length !== b * l) throw new Error(`probe: tokens has ${tokens.length} entries, expected ${b}x${l}`);
  if (c.pe === "learned" && l > c.maxLen) throw new Error(`probe: length ${l} exceeds the position table`);
  const get = paramGetter(model);
  const layers = layersFor(c);
  const V = embedding(c.K, c.d); // [K, d]
  const traces: LayerTrace[] = [];
  const logits = tf.tidy(() => {
    const xv = new Float32Array(b * l * c.d);
    for (let i = 0; i < b * l; i++) xv.set(V.subarray(tokens[i] * c.d, (tokens[i] + 1) * c.d), i * c.d);
    let x: tf.Tensor3D = tf.tensor3d(xv, [b, l, c.d]); // [b, l, d]
    if (c.pe === "learned") x = tf.add(x, tf.slice(get("pos"), [0, 0], [l, c.d])); // [b, l, d]
    c.mixers.forEach((kind, i) => {
      if (!TRACED[kind]) throw new Error(`probe: cannot trace mixer kind ${kind}`);
      const xn = layerNorm(x, normOf(get, `layer${i}.norm`)) as tf.Tensor3D; // [b, l, d]
      const p = `layer${i}.${MIXERS[kind].scope}`;
      let y: tf.Tensor3D;
      if (kind === "attention") {
        const w = {
          wq: get(`${p}.wq`) as tf.Tensor2D,
          wk: get(`${p}.wk`) as tf.Tensor2D,
          wv: get(`${p}.wv`) as tf.Tensor2D,
          wo: get(`${p}.wo`) as tf.Tensor2D,
        };
        const r = attentionWithWeights(xn, w, { heads: c.heads, rope: c.pe === "rope" });
        traces.push({ kind, heads: c.heads, weights: r.weights.dataSync() as Float32Array });
        y = r.out;
      } else {
        const core = mambaWeightsOf(get, p);
        const xIn = layers.linear(xn, get(`${p}.in_proj.x`) as tf.Tensor2D) as tf.Tensor3D; // [b, l, e]
        const z = layers.linear(xn, get(`${p}.in_proj.z`) as tf.Tensor2D) as tf.Tensor3D; // [b, l, e]
        traces.push({ kind, e: c.mambaInner, delta: mambaDelta(xIn, core).dataSync() as Float32Array });
        y = layers.linear(layers.mambaCore(xIn, z, core), get(`${p}.out_proj`) as tf.Tensor2D) as tf.Tensor3D;
      }
      x = tf.add(x, y);
    });
    const last = tf.reshape(tf.slice(x, [0, l - 1, 0], [b, 1, c.d]), [b, c.d]); // [b, d]
    const normed = layerNorm(last, normOf(get, "final_norm"));
    const out = tf.add(layers.linear(normed, get("readout.w") as tf.Tensor2D), get("readout.b")); // [b, K]
    return out.dataSync() as Float32Array;
  });
  return { layers: traces, logits };
}
