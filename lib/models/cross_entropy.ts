/**
 * The training loss: mean softmax cross-entropy of logits against integer labels, in plain tf ops (the
 * reference; readout_loss.ts fuses it with the readout on the fast path).
 *
 * Glossary: b batch, K vocabulary size.
 */
import * as tf from "@tensorflow/tfjs";

/** Mean softmax cross-entropy of logits [b, K] against integer labels [b]. */
export function crossEntropy(
  logits: tf.Tensor2D,
  labels: Int32Array,
): tf.Scalar {
  const [b, K] = logits.shape;
  const oneHot = tf.oneHot(tf.tensor1d(labels, "int32"), K); // [b, K]
  const logp = tf.logSoftmax(logits); // [b, K]
  return tf.div(tf.neg(tf.sum(tf.mul(oneHot, logp))), b) as tf.Scalar;
}
