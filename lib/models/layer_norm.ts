/**
 * LayerNorm over the last axis with a learned gain and bias (the pre-norm of every residual block and the
 * final norm before the readout). Plain tf ops: it is cheap next to the mixers.
 *
 * Glossary: b batch, l length, d model dim.
 */
import * as tf from "@tensorflow/tfjs";

export interface LayerNormWeights {
  readonly gain: tf.Tensor1D; // [d]
  readonly bias: tf.Tensor1D; // [d]
}

/** (x - mean) / sqrt(var + eps) * gain + bias, over the last axis of x [..., d]. */
export function layerNorm(
  x: tf.Tensor,
  w: LayerNormWeights,
  eps = 1e-5,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
  return tf.add(
    tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w.gain),
    w.bias,
  );
}
