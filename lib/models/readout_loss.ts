/**
 * The model's head and loss, from the last mixer's output to the training loss, in two implementations with
 * one signature:
 * - `readoutLossReference`: plain tf ops: the last position, LayerNorm (layer_norm.ts's reference), x @ W + b,
 *   cross-entropy (cross_entropy.ts), differentiated by tf autodiff (~25 ops forward and backward);
 * - `readoutLoss`: the same as ONE `tf.customGrad` op computed with plain loops over the values (float64
 *   accumulation, float32 results), with gradients for x and the four weights; values agree with the reference
 *   to float32 rounding.
 *
 * Math: u = LN(x[:, l - 1, :]) [b, d]; z = u W + bias [b, K]; loss = mean_i (logsumexp(z_i) - z_i[label_i]).
 * Backward from dLoss: dz = dLoss (softmax(z) - onehot(label)) / b; dW = u^T dz; dbias = sum_i dz;
 * du = dz W^T, then LayerNorm's backward; dx is zero except at the last position.
 *
 * Glossary: b batch, l length, d model dim, K vocabulary size.
 */
import * as tf from "@tensorflow/tfjs";
import { floats, recordingGradients, tensorOf } from "../kernels/tensor_io.ts";
import {
  layerNormReference,
  layerNormRows,
  layerNormRowsBackward,
  type LayerNormSaved,
  type LayerNormWeights,
} from "./layer_norm.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { linearReference } from "./linear.ts";

/** The readout: final LayerNorm, then u W + bias. */
export interface ReadoutWeights {
  readonly norm: LayerNormWeights;
  readonly w: tf.Tensor2D; // [d, K]
  readonly bias: tf.Tensor1D; // [K]
}

function checkShapes(x: tf.Tensor3D, r: ReadoutWeights, labels: Int32Array): void {
  const [b, , d] = x.shape;
  const [wd, K] = r.w.shape;
  if (wd !== d || r.bias.size !== K || r.norm.gain.size !== d || r.norm.bias.size !== d) {
    throw new Error(`readoutLoss: weights do not fit d=${d} (W [${r.w.shape}], bias [${r.bias.shape}])`);
  }
  if (labels.length !== b) throw new Error(`readoutLoss: ${labels.length} labels for a batch of ${b}`);
  for (const y of labels) {
    if (!(y >= 0 && y < K)) throw new Error(`readoutLoss: label ${y} outside [0, ${K})`);
  }
}

/** Plain tf: mean cross-entropy of LN(x[:, l - 1]) W + bias against `labels`, x [b, l, d]. */
export function readoutLossReference(x: tf.Tensor3D, r: ReadoutWeights, labels: Int32Array): tf.Scalar {
  checkShapes(x, r, labels);
  const [b, l, d] = x.shape;
  const last = tf.reshape(tf.slice(x, [0, l - 1, 0], [b, 1, d]), [b, d]); // [b, d]
  const logits = tf.add(linearReference(layerNormReference(last, r.norm), r.w), r.bias) as tf.Tensor2D; // [b, K]
  return crossEntropy(logits, labels);
}

/** What the forward keeps for the backward. */
interface Saved {
  readonly norm: LayerNormSaved;
  readonly u: Float32Array; // [b, d]
  readonly p: Float32Array; // softmax(z) [b, K]
  readonly gain: Float32Array; // [d]
  readonly w: Float32Array; // [d, K]
}

/**
 * The same loss as `readoutLossReference` as ONE tf.customGrad op: x [b, l, d] -> scalar, with gradients for x,
 * the norm's gain and bias, W and the readout bias.
 */
export function readoutLoss(x: tf.Tensor3D, r: ReadoutWeights, labels: Int32Array): tf.Scalar {
  checkShapes(x, r, labels);
  const [b, l, d] = x.shape;
  const K = r.w.shape[1];
  const keep = recordingGradients();
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xIn, gainIn, normBiasIn, wIn, biasIn] = args as tf.Tensor[];
      const xv = floats(xIn, "readoutLoss: x");
      const last = new Float32Array(b * d); // [b, d]
      for (let i = 0; i < b; i++) last.set(xv.subarray((i * l + l - 1) * d, (i * l + l) * d), i * d);
      const gain = floats(gainIn, "readoutLoss: gain").slice();
      const ln = layerNormRows(last, gain, floats(normBiasIn, "readoutLoss: norm bias"), b, d, 1e-5, keep);
      const u = ln.y; // [b, d]
      const w = floats(wIn, "readoutLoss: W").slice();
      const bias = floats(biasIn, "readoutLoss: bias");
      const p = new Float32Array(b * K); // [b, K]
      const z = new Float64Array(K);
      let total = 0;
      for (let i = 0; i < b; i++) {
        let max = -Infinity;
        for (let k = 0; k < K; k++) {
          let s = bias[k];
          for (let j = 0; j < d; j++) s += u[i * d + j] * w[j * K + k];
          z[k] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(z[k] - max);
        total += max + Math.log(sum) - z[labels[i]];
        for (let k = 0; k < K; k++) p[i * K + k] = Math.exp(z[k] - max) / sum;
      }
      const saved: Saved | undefined = ln.saved ? { norm: ln.saved, u, p, gain, w } : undefined;
      return {
        value: tf.scalar(total / b),
        gradFunc: (dy: tf.Tensor): tf.Tensor[] => {
          if (!saved) throw new Error("readoutLoss: backward without a recorded forward");
          const scale = floats(dy, "readoutLoss: dy")[0] / b;
          const dz = new Float32Array(b * K); // [b, K]
          for (let i = 0; i < b; i++) {
            for (let k = 0; k < K; k++) dz[i * K + k] = scale * (saved.p[i * K + k] - (k === labels[i] ? 1 : 0));
          }
          const dW = new Float64Array(d * K);
          const dBias = new Float64Array(K);
          const du = new Float32Array(b * d); // [b, d]
          for (let i = 0; i < b; i++) {
            for (let k = 0; k < K; k++) dBias[k] += dz[i * K + k];
            for (let j = 0; j < d; j++) {
              const uij = saved.u[i * d + j];
              let s = 0;
              for (let k = 0; k < K; k++) {
                dW[j * K + k] += uij * dz[i * K + k];
                s += dz[i * K + k] * saved.w[j * K + k];
              }
              du[i * d + j] = s;
            }
          }
          const g = layerNormRowsBackward(du, saved.gain, saved.norm, b, d);
          const dx = new Float32Array(b * l * d); // [b, l, d], zero before the last position
          for (let i = 0; i < b; i++) dx.set(g.dx.subarray(i * d, (i + 1) * d), (i * l + l - 1) * d);
          return [
            tensorOf(dx, [b, l, d]),
            tensorOf(g.dGain, [d]),
            tensorOf(g.dBias, [d]),
            tensorOf(Float32Array.from(dW), [d, K]),
            tensorOf(Float32Array.from(dBias), [K]),
          ];
        },
      };
    }) as Parameters<typeof tf.customGrad>[0],
  );
  return op(x, r.norm.gain, r.norm.bias, r.w, r.bias) as tf.Scalar;
}
