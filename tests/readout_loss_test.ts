import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { readoutLoss, readoutLossReference, type ReadoutWeights } from "../lib/models/readout_loss.ts";
import { lcgValues, relativeError } from "./fixtures/numeric.ts";

await initBackend();

const B = 5, L = 4, K = 16;

function readout(seed: number, d: number): ReadoutWeights {
  return {
    norm: { gain: tf.tensor1d(lcgValues(seed, d, 0.5, 1.5)), bias: tf.tensor1d(lcgValues(seed + 1, d)) },
    w: tf.tensor2d(lcgValues(seed + 2, d * K, -2, 2), [d, K]),
    bias: tf.tensor1d(lcgValues(seed + 3, K)),
  };
}

function disposeReadout(r: ReadoutWeights): void {
  tf.dispose([r.norm.gain, r.norm.bias, r.w, r.bias]);
}

const LABELS = new Int32Array([3, 0, 15, 7, 3]);

Deno.test("fused readout + cross-entropy matches the tf-op reference in value (d = 8, 64)", () => {
  for (const d of [8, 64]) {
    const x = tf.tensor3d(lcgValues(5, B * L * d, -3, 3), [B, L, d]);
    const r = readout(11, d);
    const fast = readoutLoss(x, r, LABELS);
    const ref = readoutLossReference(x, r, LABELS);
    assert.deepEqual(fast.shape, []);
    const err = relativeError(fast, ref);
    assert.ok(err < 1e-6, `d=${d}: relative error ${err}`);
    tf.dispose([x, fast, ref]);
    disposeReadout(r);
  }
});

Deno.test("fused readout + cross-entropy gradients for x and all four weights match tf autodiff", () => {
  for (const d of [8, 64]) {
    const x = tf.tensor3d(lcgValues(31, B * L * d, -3, 3), [B, L, d]);
    const r = readout(37, d);
    const gradsOf = (f: typeof readoutLoss): tf.Tensor[] =>
      tf.grads((xi: tf.Tensor, gain: tf.Tensor, nb: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
        tf.mul(
          f(xi as tf.Tensor3D, {
            norm: { gain: gain as tf.Tensor1D, bias: nb as tf.Tensor1D },
            w: w as tf.Tensor2D,
            bias: bias as tf.Tensor1D,
          }, LABELS),
          1.7,
        )
      )([x, r.norm.gain, r.norm.bias, r.w, r.bias]);
    const fast = gradsOf(readoutLoss);
    const ref = gradsOf(readoutLossReference);
    ["x", "gain", "norm bias", "W", "bias"].forEach((name, i) => {
      assert.deepEqual(fast[i].shape, ref[i].shape);
      const err = relativeError(fast[i], ref[i]);
      assert.ok(err < 1e-5, `d=${d} d${name}: relative error ${err}`);
    });
    // only the last position gets gradient
    const dx = fast[0].arraySync() as number[][][];
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < L - 1; t++) assert.ok(dx[b][t].every((v) => v === 0), `batch ${b} position ${t}`);
    }
    tf.dispose([x, ...fast, ...ref]);
    disposeReadout(r);
  }
});

Deno.test("fused readout + cross-entropy rejects labels outside the vocabulary and a wrong batch", () => {
  const x = tf.zeros([B, L, 8]) as tf.Tensor3D;
  const r = readout(41, 8);
  assert.throws(() => readoutLoss(x, r, new Int32Array([0, 1, 2, 3, 16])), /outside/);
  assert.throws(() => readoutLoss(x, r, new Int32Array([0, 1])), /labels/);
  tf.dispose(x);
  disposeReadout(r);
});
