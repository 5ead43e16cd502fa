import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { gemmKernel, type GemmLayout, nnLayout, tnLayout } from "../lib/kernels/gemm.ts";
import { instantiate, reserve, view } from "../lib/kernels/assembler.ts";
import { mt19937 } from "../lib/task/random.ts";

await initBackend();

function gaussian(seed: number, size: number): Float32Array {
  const rng = mt19937(seed);
  return Float32Array.from({ length: size }, () => rng.gaussian());
}

/** Run one kernel on a [aRows, aCols] and b [bRows, q], C starting from `c0`; returns C [p, q]. */
function run(
  layout: GemmLayout,
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  p: number,
  t: number,
): Float32Array {
  const { memory, kernel } = instantiate([gemmKernel(layout)]);
  const at = reserve(memory, { a: a.length, b: b.length, c: c0.length });
  view(memory, at.a, a.length).set(a);
  view(memory, at.b, b.length).set(b);
  view(memory, at.c, c0.length).set(c0);
  kernel(layout.name)(at.a, at.b, at.c, p, t);
  return view(memory, at.c, c0.length).slice();
}

/** Indices where the float32 bit patterns differ. */
function bitDiffs(got: Float32Array, want: Float32Array): number[] {
  assert.equal(got.length, want.length);
  const g = new Uint32Array(got.buffer), w = new Uint32Array(new Float32Array(want).buffer);
  const out: number[] = [];
  for (let i = 0; i < g.length; i++) if (g[i] !== w[i]) out.push(i);
  return out;
}

// [P, T, Q]: a full-tile shape of the Mamba block at d = 64, then remainders in rows, columns and chunks
const SHAPES = [[4096, 64, 128], [4096, 128, 64], [37, 20, 12], [6, 3, 4], [1, 1, 20]];

for (const [p, t, q] of SHAPES) {
  Deno.test(`gemm nn: A B equals tf.matMul bit for bit ([${p}, ${t}] x [${t}, ${q}])`, () => {
    const a = gaussian(p + t, p * t), b = gaussian(q, t * q);
    const want = tf.tidy(() => tf.matMul(tf.tensor2d(a, [p, t]), tf.tensor2d(b, [t, q])).dataSync() as Float32Array);
    const got = run(nnLayout("nn", t, q, "write"), a, b, gaussian(9, p * q), p, t);
    assert.deepEqual(bitDiffs(got, want), []);
  });

  Deno.test(`gemm nn "add": C + A B equals tf.add(C, tf.matMul) bit for bit ([${p}, ${t}] x [${t}, ${q}])`, () => {
    const a = gaussian(p + t, p * t), b = gaussian(q, t * q), c0 = gaussian(3, p * q);
    const want = tf.tidy(() =>
      tf.add(tf.tensor2d(c0, [p, q]), tf.matMul(tf.tensor2d(a, [p, t]), tf.tensor2d(b, [t, q])))
        .dataSync() as Float32Array
    );
    const got = run(nnLayout("nn", t, q, "add"), a, b, c0, p, t);
    assert.deepEqual(bitDiffs(got, want), []);
  });

  // tn: A [T, P] (T rows reduced), as a weight gradient x^T dy; T = p here so the long reduction is chunked
  Deno.test(`gemm tn: A^T B equals tf.matMul(tf.transpose(A), B) bit for bit ([${p}, ${t}]^T x [${p}, ${q}])`, () => {
    const rows = p, cols = t;
    const a = gaussian(rows + 1, rows * cols), b = gaussian(q + 2, rows * q);
    const want = tf.tidy(() =>
      tf.matMul(tf.transpose(tf.tensor2d(a, [rows, cols])), tf.tensor2d(b, [rows, q])).dataSync() as Float32Array
    );
    const got = run(tnLayout("tn", cols, q), a, b, new Float32Array(cols * q), cols, rows);
    assert.deepEqual(bitDiffs(got, want), []);
  });
}

Deno.test("gemm kernels reject columns that are not a multiple of 4 and chunking outside mode continue", () => {
  assert.throws(() => gemmKernel(nnLayout("nn", 4, 6, "write")), /columns must be a multiple of 4, got 6/);
  assert.throws(() => gemmKernel({ ...nnLayout("nn", 4, 8, "write"), tChunk: 16 }), /chunked reduction needs mode/);
});

Deno.test("gemm tn in chunks that do not divide the rows gives the single sweep's sums bit for bit", () => {
  const rows = 37, p = 8, q = 12;
  const a = gaussian(1, rows * p), b = gaussian(2, rows * q);
  const whole = run({ ...tnLayout("tn", p, q), tChunk: 1000 }, a, b, new Float32Array(p * q), p, rows);
  const chunked = run({ ...tnLayout("tn", p, q), tChunk: 5 }, a, b, new Float32Array(p * q), p, rows);
  assert.deepEqual(bitDiffs(chunked, whole), []);
});

/** max |a - b| / max |b|. */
function relErr(got: Float32Array, want: Float32Array): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / scale;
}

for (const [p, t, q] of [[4096, 16, 36], [37, 33, 16], [5, 8, 12]]) {
  Deno.test(`gemm with fused multiply-adds matches tf.matMul to 1e-6 relative, nn and tn ([${p}, ${t}] x [${t}, ${q}])`, () => {
    const a = gaussian(p * 3 + t, p * t), b = gaussian(q + 7, t * q), c0 = gaussian(4, p * q);
    const nn = tf.tidy(() => tf.matMul(tf.tensor2d(a, [p, t]), tf.tensor2d(b, [t, q])).dataSync() as Float32Array);
    const err = relErr(run({ ...nnLayout("nn", t, q, "write"), fused: true }, a, b, new Float32Array(p * q), p, t), nn);
    assert.ok(err < 1e-6, `nn: ${err}`);
    // "continue" starts each sum from C's value
    const fromC = run({ ...nnLayout("nn", t, q, "write"), mode: "continue", fused: true }, a, b, c0, p, t);
    const plus = Float32Array.from(nn, (x, i) => x + c0[i]);
    assert.ok(relErr(fromC, plus) < 1e-6, "nn continue");
    const bt = gaussian(q + 8, p * q);
    const tn = tf.tidy(() =>
      tf.matMul(tf.transpose(tf.tensor2d(a, [p, t])), tf.tensor2d(bt, [p, q])).dataSync() as Float32Array
    );
    const tnErr = relErr(run({ ...tnLayout("tn", t, q), fused: true }, a, bt, new Float32Array(t * q), t, p), tn);
    assert.ok(tnErr < 1e-6, `tn: ${tnErr}`);
  });
}
