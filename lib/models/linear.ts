/**
 * Dense projection x @ W with a gradient built from explicit transposes.
 *
 * On the TF.js wasm backend a matMul with `transposeA`/`transposeB` leaves the fast XNNPACK path (measured
 * ~12x slower at [4096,64]x[64,64]), and tf's built-in matMul gradient uses those flags. `linear` computes the
 * same values as `linearReference` but differentiates through explicit transposes (a SIMD kernel,
 * lib/kernels/transpose.ts) + plain matMul.
 *
 * Glossary: m rows (all leading dims flattened), i input dim, o output dim.
 */
import * as tf from "@tensorflow/tfjs";
import { transpose2d } from "../kernels/transpose.ts";

/** Plain tf: x [..., i] @ w [i, o] -> [..., o], differentiated by tf autodiff. */
export function linearReference(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  const [i, o] = w.shape;
  const x2 = tf.reshape(x, [-1, i]); // [m, i]
  return tf.reshape(tf.matMul(x2, w), [...x.shape.slice(0, -1), o]); // [..., o]
}

function linearWithGrad(...args: (tf.Tensor | tf.GradSaveFunc)[]): {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
} {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor2D, tf.GradSaveFunc];
  const [i, o] = w.shape;
  const x2 = tf.reshape(x, [-1, i]) as tf.Tensor2D; // [m, i]
  save([x2, w]);
  return {
    value: tf.reshape(tf.matMul(x2, w), [...x.shape.slice(0, -1), o]), // [..., o]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
      const dy2 = tf.reshape(dy, [-1, o]) as tf.Tensor2D; // [m, o]
      const dx = tf.reshape(tf.matMul(dy2, transpose2d(ws)), x.shape); // [..., i]
      const dw = tf.matMul(transpose2d(xs), dy2); // [i, o]
      return [dx, dw];
    },
  };
}

const fastLinear = tf.customGrad(
  linearWithGrad as Parameters<typeof tf.customGrad>[0],
);

/** x [..., i] @ w [i, o] -> [..., o], with a transpose-free-flag gradient (fast on wasm). */
export function linear(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  return fastLinear(x, w);
}
