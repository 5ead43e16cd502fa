import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend.ts";
import { linear, linearReference } from "../lib/models/linear.ts";
import { mt19937 } from "../lib/random.ts";

await initBackend();

function randn(rng: ReturnType<typeof mt19937>, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.gaussian()), shape);
}

Deno.test("linear() matches the plain matMul reference in values and gradients", () => {
  const rng = mt19937(3);
  const x = randn(rng, [2, 5, 4]), w = randn(rng, [4, 3]) as tf.Tensor2D, r = randn(rng, [2, 5, 3]);
  const loss = (f: typeof linear) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b as tf.Tensor2D), r));
  const [dxF, dwF] = tf.grads(loss(linear))([x, w]);
  const [dxR, dwR] = tf.grads(loss(linearReference))([x, w]);
  const close = (a: tf.Tensor, b: tf.Tensor) => assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-5);
  close(linear(x, w), linearReference(x, w));
  close(dxF, dxR);
  close(dwF, dwR);
  assert.deepEqual(linear(x, w).shape, [2, 5, 3]);
});
