/**
 * A probe-only attention forward that also returns the softmax weights: the math of
 * lib/models/attention.ts `causalAttentionReference` (x @ W, heads of size k = d / h, RoPE on queries and keys
 * when on, causal softmax of q kk^T / sqrt(k), heads merged, @ Wo), in plain tf ops. The fast kernels never
 * materialise the weights, so probes recompute them here; tests/probe_forward_test.ts checks that this output
 * reproduces the model's layer.
 *
 * Glossary: b batch, l length, d model dim, h heads, k head dim, t query position, s key position.
 */
import * as tf from "@tensorflow/tfjs";
import type { AttentionOptions, AttentionWeights } from "../models/attention.ts";
import { ropeReference } from "../models/rope.ts";

/** The layer's output [b, l, d] and its attention weights [b, h, l, l] (row t: weights over keys s <= t). */
export interface AttentionWithWeights {
  readonly out: tf.Tensor3D;
  readonly weights: tf.Tensor4D;
}

/** Causal self-attention from tf ops, keeping the softmax weights. Call inside tf.tidy (or dispose both). */
export function attentionWithWeights(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): AttentionWithWeights {
  const [b, l, d] = x.shape;
  const h = opts.heads;
  if (!Number.isInteger(h) || h <= 0 || d % h !== 0) throw new Error(`attention heads must divide d=${d}, got ${h}`);
  const k = d / h;
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [b * l, d]); // [b*l, d]
    const heads = (wm: tf.Tensor2D): tf.Tensor4D =>
      tf.transpose(tf.reshape(tf.matMul(x2, wm), [b, l, h, k]), [0, 2, 1, 3]); // [b, h, l, k]
    let q = heads(w.wq);
    let kk = heads(w.wk);
    const v = heads(w.wv);
    if (opts.rope) {
      q = ropeReference(q);
      kk = ropeReference(kk);
    }
    const scores = tf.mul(tf.matMul(q, kk, false, true), 1 / Math.sqrt(k)); // [b, h, l, l]
    const future = tf.sub(1, tf.linalg.bandPart(tf.ones([l, l]), -1, 0)); // [l, l], 1 where s > t
    const weights = tf.softmax(tf.add(scores, tf.mul(future, -1e9))) as tf.Tensor4D; // [b, h, l, l]
    const o = tf.matMul(weights, v); // [b, h, l, k]
    const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b * l, d]); // [b*l, d]
    const out = tf.reshape(tf.matMul(merged, w.wo), [b, l, d]) as tf.Tensor3D; // [b, l, d]
    return { out, weights };
  });
}
