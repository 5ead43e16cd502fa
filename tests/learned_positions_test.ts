import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { addPositions, addPositionsReference } from "../lib/models/learned_positions.ts";
import { lcgValues } from "./fixtures/numeric.ts";

await initBackend();

const B = 64, L = 10, P = 30, D = 8;

Deno.test("fused position add gives the reference's values and table gradient bit for bit", () => {
  const x = lcgValues(1, B * L * D);
  const pos = tf.tensor2d(lcgValues(2, P * D), [P, D]);
  const r = tf.tensor3d(lcgValues(3, B * L * D).map((v) => v * 3), [B, L, D]);
  const fast = addPositions(x, B, L, pos);
  const ref = addPositionsReference(x, B, L, pos);
  assert.deepEqual(fast.dataSync(), ref.dataSync());
  const gradOf = (f: typeof addPositions): tf.Tensor =>
    tf.grad((p: tf.Tensor) => tf.sum(tf.mul(f(x, B, L, p as tf.Tensor2D), r)))(pos);
  const gFast = gradOf(addPositions);
  const gRef = gradOf(addPositionsReference);
  assert.deepEqual(gFast.shape, [P, D]);
  assert.deepEqual(gFast.dataSync(), gRef.dataSync());
  const rows = gFast.arraySync() as number[][];
  for (let t = L; t < P; t++) assert.ok(rows[t].every((v) => v === 0), `row ${t} beyond the length`);
  assert.ok(rows[0].some((v) => v !== 0), "rows before the length get gradient");
  tf.dispose([pos, r, fast, ref, gFast, gRef]);
});

Deno.test("fused position add rejects a length beyond the table and a wrong input size", () => {
  const pos = tf.zeros([4, D]) as tf.Tensor2D;
  assert.throws(() => addPositions(new Float32Array(5 * D), 1, 5, pos), /exceeds/);
  assert.throws(() => addPositions(new Float32Array(3), 1, 2, pos), /values/);
  pos.dispose();
});
