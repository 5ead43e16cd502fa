import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { transpose2d, transposeArray } from "../lib/kernels/transpose.ts";
import { mt19937 } from "../lib/task/random.ts";

await initBackend();

function randn(seed: number, r: number, c: number): tf.Tensor2D {
  const rng = mt19937(seed);
  return tf.tensor2d(Float32Array.from({ length: r * c }, () => rng.gaussian()), [r, c]);
}

for (const [r, c] of [[4, 4], [8, 4], [4, 12], [64, 128], [4096, 64], [6, 8], [5, 3], [1, 7]]) {
  Deno.test(`transpose2d() equals tf.transpose exactly for [${r}, ${c}]`, () => {
    const x = randn(r * 1000 + c, r, c);
    const fast = transpose2d(x);
    assert.deepEqual(fast.shape, [c, r]);
    assert.deepEqual(fast.dataSync(), tf.transpose(x).dataSync());
    tf.dispose([x, fast]);
  });
}

Deno.test("transposeArray() places element (i, j) at (j, i)", () => {
  const src = Float32Array.from({ length: 8 * 12 }, (_, k) => k); // value = i * 12 + j
  const out = transposeArray(src, 8, 12);
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 12; j++) assert.equal(out[j * 8 + i], i * 12 + j);
  }
});

Deno.test("transposeArray() rejects dims that are not multiples of 4 with a clear message", () => {
  assert.throws(() => transposeArray(new Float32Array(6), 2, 3), /multiples of 4/);
});

Deno.test("transpose2d() leaks no tensors", () => {
  const x = randn(1, 16, 8);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) tf.dispose(transpose2d(x));
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});
