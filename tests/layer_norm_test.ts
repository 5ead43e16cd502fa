import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { layerNorm, layerNormReference, type LayerNormWeights } from "../lib/models/layer_norm.ts";
import { lcgValues, relativeError } from "./fixtures/numeric.ts";

await initBackend();

// widths 8, 64, 16 run the SIMD kernels; 6 (not a multiple of 4) the plain loops
const SHAPES: number[][] = [[2, 5, 8], [3, 64], [1, 7, 1, 16], [4, 3, 6]];

function weights(seed: number, d: number): LayerNormWeights {
  return { gain: tf.tensor1d(lcgValues(seed, d, 0.5, 1.5)), bias: tf.tensor1d(lcgValues(seed + 1, d)) };
}

Deno.test("fused LayerNorm matches the tf-op reference in value (4 shapes, offset and scaled rows)", () => {
  for (const shape of SHAPES) {
    const n = shape.reduce((a, c) => a * c, 1);
    const x = tf.tensor(lcgValues(3, n, -4, 6), shape);
    const w = weights(9, shape[shape.length - 1]);
    const fast = layerNorm(x, w);
    const ref = layerNormReference(x, w);
    assert.deepEqual(fast.shape, shape);
    const err = relativeError(fast, ref);
    assert.ok(err < 1e-5, `[${shape}]: relative error ${err}`);
    tf.dispose([x, fast, ref, w.gain, w.bias]);
  }
});

Deno.test("fused LayerNorm gradients for x, gain and bias match tf autodiff of the reference", () => {
  for (const shape of SHAPES) {
    const n = shape.reduce((a, c) => a * c, 1);
    const x = tf.tensor(lcgValues(13, n, -2, 3), shape);
    const r = tf.tensor(lcgValues(17, n), shape);
    const w = weights(19, shape[shape.length - 1]);
    const gradsOf = (f: typeof layerNorm): tf.Tensor[] =>
      tf.grads((xi: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor) =>
        tf.sum(tf.mul(f(xi, { gain: gain as tf.Tensor1D, bias: bias as tf.Tensor1D }), r))
      )([x, w.gain, w.bias]);
    const fast = gradsOf(layerNorm);
    const ref = gradsOf(layerNormReference);
    ["x", "gain", "bias"].forEach((name, i) => {
      assert.deepEqual(fast[i].shape, ref[i].shape);
      const err = relativeError(fast[i], ref[i]);
      assert.ok(err < 1e-4, `[${shape}] d${name}: relative error ${err}`);
    });
    tf.dispose([x, r, w.gain, w.bias, ...fast, ...ref]);
  }
});

Deno.test("fused LayerNorm outside a gradient tape keeps nothing and leaks no tensors", () => {
  const x = tf.tensor(lcgValues(23, 40), [5, 8]);
  const w = weights(29, 8);
  const before = tf.memory().numTensors;
  tf.tidy(() => layerNorm(x, w).dataSync());
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, w.gain, w.bias]);
});
