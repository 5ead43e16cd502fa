import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { linear, linearReference } from "../lib/models/linear.ts";
import { mt19937 } from "../lib/task/random.ts";

await initBackend();

function randn(rng: ReturnType<typeof mt19937>, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.gaussian()), shape);
}

for (const [xShape, wShape] of [[[2, 5, 4], [4, 3]], [[2, 6, 8], [8, 12]]]) {
  // the second shape takes the SIMD transpose kernel in the gradient (all dims multiples of 4)
  Deno.test(`linear() matches the plain matMul reference in values and gradients (x [${xShape}], w [${wShape}])`, () => {
    const rng = mt19937(3);
    const outShape = [...xShape.slice(0, -1), wShape[1]];
    const x = randn(rng, xShape), w = randn(rng, wShape) as tf.Tensor2D, r = randn(rng, outShape);
    const loss = (f: typeof linear) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b as tf.Tensor2D), r));
    const [dxF, dwF] = tf.grads(loss(linear))([x, w]);
    const [dxR, dwR] = tf.grads(loss(linearReference))([x, w]);
    const close = (a: tf.Tensor, b: tf.Tensor) => assert.ok(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-5);
    close(linear(x, w), linearReference(x, w));
    close(dxF, dxR);
    close(dwF, dwR);
    assert.deepEqual(linear(x, w).shape, outShape);
  });
}
