/**
 * The model's forward pass re-traced layer by layer on the plain tf-op references, keeping what the probes read
 * from the references' caches: each attention layer's pattern (lib/models/attention.ts `attentionWithCache`) and
 * each Mamba layer's step sizes delta (lib/models/mamba_block.ts `mambaBlockWithCache`). The weights come by layer
 * from lib/models/model_weights.ts, the mapping the model names them by. The references compute the model's math
 * (each is tested against its fast kernel), so the trace's logits are the model's to float32 rounding;
 * tests/probe_run_test.ts checks them against `model.logits`.
 *
 *   V[token] (+ pos) -> [x + mixer(LN(x))] per layer -> LN -> readout of the last position
 *
 * Glossary: b batch, l length, d model dim, e Mamba inner dim, h heads, K vocabulary.
 */
import type { RunModel } from "../training/config.ts";
import * as tf from "@tensorflow/tfjs";
import { layerNorm } from "../models/layer_norm.ts";
import { layersFor } from "../models/layers.ts";
import { modelTensors } from "../models/model_weights.ts";
import { embedding } from "../task/embedding.ts";
import { attentionWithCache } from "../models/attention.ts";
import { mambaBlockWithCache } from "../models/mamba_block.ts";

/** What one layer shows a probe, as typed arrays with their shapes. */
export type LayerTrace =
  | { readonly kind: "attention"; readonly heads: number; readonly weights: Float32Array } // [b, h, l, l]
  | { readonly kind: "mamba"; readonly e: number; readonly delta: Float32Array }; // [b, l, e]

export interface ForwardTrace {
  readonly layers: readonly LayerTrace[];
  /** [b, K] logits at the last position. */
  readonly logits: Float32Array;
}

/** Run `model` on tokens [b, l] and keep every layer's trace; leaves no tensor behind. */
export function traceForward(model: RunModel, tokens: Int32Array, b: number, l: number): ForwardTrace {
  const c = model.config;
  if (tokens.length !== b * l) throw new Error(`probe: tokens has ${tokens.length} entries, expected ${b}x${l}`);
  if (c.pe === "learned" && l > c.maxLen) throw new Error(`probe: length ${l} exceeds the position table`);
  const w = modelTensors(c, model.params);
  const layers = layersFor(c);
  const V = embedding(c.K, c.d); // [K, d]
  const traces: LayerTrace[] = [];
  const logits = tf.tidy(() => {
    const xv = new Float32Array(b * l * c.d);
    for (let i = 0; i < b * l; i++) xv.set(V.subarray(tokens[i] * c.d, (tokens[i] + 1) * c.d), i * c.d);
    let x: tf.Tensor3D = tf.tensor3d(xv, [b, l, c.d]); // [b, l, d]
    if (w.pos) x = tf.add(x, tf.slice(w.pos, [0, 0], [l, c.d])); // [b, l, d]
    for (const layer of w.layers) {
      // one tidy per layer: a Mamba layer's cache and scan hold several [b, l, e, n] tensors
      x = tf.tidy(() => {
        const xn = layerNorm(x, layer.norm) as tf.Tensor3D; // [b, l, d]
        if (layer.kind === "attention") {
          const { out, cache } = attentionWithCache(xn, layer.mixer, { heads: c.heads, rope: c.pe === "rope" });
          traces.push({ kind: "attention", heads: c.heads, weights: cache.pattern.dataSync() as Float32Array });
          return tf.add(x, out) as tf.Tensor3D; // [b, l, d]
        }
        const { out, cache } = mambaBlockWithCache(xn, layer.mixer, layer.mixer);
        traces.push({ kind: "mamba", e: c.mambaInner, delta: cache.delta.dataSync() as Float32Array });
        return tf.add(x, out) as tf.Tensor3D; // [b, l, d]
      });
    }
    const last = tf.reshape(tf.slice(x, [0, l - 1, 0], [b, 1, c.d]), [b, c.d]); // [b, d]
    const normed = layerNorm(last, w.finalNorm);
    const out = tf.add(layers.linear(normed, w.readout.w), w.readout.b); // [b, K]
    return out.dataSync() as Float32Array;
  });
  return { layers: traces, logits };
}
