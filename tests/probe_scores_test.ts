/**
 * The probes on hand-built weights whose answers are known: an attention layer wired as a previous-token head
 * scores about 1, uniform attention scores 1/(t+1) at 0-based t, a Mamba core with delta forced to 0 keeps its
 * state and with a large delta forgets it (read from the reference core's cache), and `retention` says so.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { causalAttentionReference } from "../lib/models/attention.ts";
import { mambaCoreReference, type MambaCoreWeights, mambaCoreWithCache } from "../lib/models/mamba_core.ts";
import { substream } from "../lib/task/random.ts";
import { attentionWithCache } from "../lib/models/attention.ts";
import { AttentionAccumulator } from "../lib/probes/attention_probe.ts";
import { retention } from "../lib/probes/mamba_probe.ts";

await initBackend();

const L = 8;

/** x [1, L, L]: position t is the one-hot vector e_t. */
function oneHotPositions(): tf.Tensor3D {
  return tf.tidy(() => tf.reshape(tf.eye(L), [1, L, L]) as tf.Tensor3D);
}

/** Attention weights [1, 1, L, L] of a one-head layer on one-hot positions with these query weights. */
function weightsOf(wq: Float32Array): Float32Array {
  return tf.tidy(() => {
    const w = {
      wq: tf.tensor2d(wq, [L, L]),
      wk: tf.eye(L) as tf.Tensor2D,
      wv: tf.eye(L) as tf.Tensor2D,
      wo: tf.eye(L) as tf.Tensor2D,
    };
    return attentionWithCache(oneHotPositions(), w, { heads: 1, rope: false }).cache.pattern.dataSync() as Float32Array;
  });
}

function statsOf(weights: Float32Array) {
  const acc = new AttentionAccumulator(1, L, 1, 2);
  acc.add(weights, Int32Array.of(3));
  return acc.finish();
}

Deno.test("an attention layer wired as a previous-token head has previous-token score about 1", () => {
  const wq = new Float32Array(L * L);
  for (let t = 1; t < L; t++) wq[t * L + (t - 1)] = 40; // q_t = 40 e_{t-1}, k_s = e_s: only s = t-1 matches
  const stats = statsOf(weightsOf(wq));
  assert.ok(stats.previousToken[0] > 0.999, `previous-token score ${stats.previousToken[0]}`);
  assert.ok(stats.lagTau[0] > 0.999);
  // aligned on the first query (i = 3, window 2): row r puts its weight on column r - 1
  for (let r = -1; r <= 2; r++) assert.ok(stats.aligned[0][(r + 2) * 5 + (r - 1 + 2)]! > 0.999);
  // the final row (t = 7) looks at key 6 = i + 3, outside the window's offsets -2..2
  assert.ok(stats.finalRow[0].every((w) => w !== null && w < 1e-3));
});

Deno.test("uniform attention scores 1/(t+1) at each position t (1/t counting positions from 1)", () => {
  const stats = statsOf(weightsOf(new Float32Array(L * L))); // q = 0: every score 0
  for (let t = 1; t < L; t++) assert.ok(Math.abs(stats.lagByPosition[0][t]! - 1 / (t + 1)) < 1e-6);
  let mean = 0;
  for (let t = 1; t < L; t++) mean += 1 / (t + 1) / (L - 1);
  assert.ok(Math.abs(stats.previousToken[0] - mean) < 1e-6);
  assert.ok(Math.abs(stats.induction[0] - 1 / L) < 1e-6); // final row: L keys
});

Deno.test("the cached attention's output is the reference layer's output, and its pattern rows sum to 1", () => {
  const rng = substream(1, "probe:test:attention");
  const draw = (n: number) => Float32Array.from({ length: n }, () => rng.gaussian());
  const d = 8, l = 11, b = 2;
  for (const rope of [false, true]) {
    const diff = tf.tidy(() => {
      const x = tf.tensor3d(draw(b * l * d), [b, l, d]);
      const m = () => tf.tensor2d(draw(d * d), [d, d]);
      const w = { wq: m(), wk: m(), wv: m(), wo: m() };
      const opts = { heads: 4, rope };
      const mine = attentionWithCache(x, w, opts);
      const rowSums = tf.sum(mine.cache.pattern, -1);
      assert.ok(tf.max(tf.abs(tf.sub(rowSums, 1))).dataSync()[0] < 1e-5);
      return tf.max(tf.abs(tf.sub(mine.out, causalAttentionReference(x, w, opts)))).dataSync()[0];
    });
    assert.ok(diff < 1e-5, `rope=${rope}: max difference ${diff}`);
  }
});

/** A small core (e = 3 channels, n = 4 states, dt rank 1, conv width 4) with seeded weights. */
function smallCore(): MambaCoreWeights {
  const rng = substream(2, "probe:test:mamba");
  const t = (shape: number[]) =>
    tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => rng.gaussian()), shape);
  const aLog = tf.tensor2d(Float32Array.from({ length: 12 }, (_, k) => Math.log((k % 4) + 1)), [3, 4]);
  return {
    convW: t([3, 4]) as tf.Tensor2D,
    convB: t([3]) as tf.Tensor1D,
    xProj: t([3, 9]) as tf.Tensor2D,
    dtProj: t([1, 3]) as tf.Tensor2D,
    dtBias: t([3]) as tf.Tensor1D,
    aLog,
    D: tf.ones([3]) as tf.Tensor1D,
  };
}

/** delta [1, l, 3]: 1 at t = 0, `later` afterwards. */
function forcedDelta(l: number, later: number): tf.Tensor3D {
  const v = new Float32Array(l * 3).fill(later);
  v.fill(1, 0, 3);
  return tf.tensor3d(v, [1, l, 3]);
}

Deno.test("a Mamba core with delta forced to 0 after the first step keeps its state exactly", () => {
  const wt = smallCore();
  const l = 10;
  const rng = substream(3, "probe:test:mamba-input");
  const xv = Float32Array.from({ length: l * 3 }, () => rng.gaussian());
  const [first, last] = tf.tidy(() => {
    const x = tf.tensor3d(xv, [1, l, 3]);
    const s = mambaCoreWithCache(x, x, wt, { delta: forcedDelta(l, 0) }).cache.h; // [1, l, 3, 4]
    return [tf.slice(s, [0, 0, 0, 0], [1, 1, 3, 4]).dataSync(), tf.slice(s, [0, l - 1, 0, 0], [1, 1, 3, 4]).dataSync()];
  });
  assert.ok(first.some((v) => Math.abs(v) > 1e-3), "the first step wrote something");
  assert.deepEqual(Array.from(last), Array.from(first));
  const kept = retention(new Float32Array(l * 3), l, wt.aLog.dataSync() as Float32Array, 3, 4, 0, l - 1);
  assert.deepEqual(Array.from(kept), [1, 1, 1]);
  tf.dispose(Object.values(wt));
});

Deno.test("a Mamba core with a large delta forgets what it saw before", () => {
  const wt = smallCore();
  const l = 10;
  const rng = substream(4, "probe:test:mamba-input");
  const xv = Float32Array.from({ length: l * 3 }, () => rng.gaussian());
  const changed = xv.slice();
  for (let c = 0; c < 3; c++) changed[c] += 5; // only position 0 differs (the conv reaches 3 steps ahead)
  const lastState = (values: Float32Array) =>
    tf.tidy(() => {
      const x = tf.tensor3d(values, [1, l, 3]);
      const s = mambaCoreWithCache(x, x, wt, { delta: forcedDelta(l, 30) }).cache.h;
      return tf.slice(s, [0, l - 1, 0, 0], [1, 1, 3, 4]).dataSync() as Float32Array;
    });
  const a = lastState(xv), b = lastState(changed);
  for (let k = 0; k < a.length; k++) assert.ok(Math.abs(a[k] - b[k]) < 1e-6, `state ${k}: ${a[k]} vs ${b[k]}`);
  const delta = new Float32Array(l * 3).fill(30);
  const kept = retention(delta, l, wt.aLog.dataSync() as Float32Array, 3, 4, 0, l - 1);
  assert.ok(kept.every((v) => v < 1e-100));
  tf.dispose(Object.values(wt));
});

Deno.test("the cached Mamba core computes the reference core's output when delta is not forced", () => {
  const wt = smallCore();
  const rng = substream(5, "probe:test:mamba-input");
  const l = 7;
  const diff = tf.tidy(() => {
    const x = tf.tensor3d(Float32Array.from({ length: 2 * l * 3 }, () => rng.gaussian()), [2, l, 3]);
    const z = tf.tensor3d(Float32Array.from({ length: 2 * l * 3 }, () => rng.gaussian()), [2, l, 3]);
    return tf.max(tf.abs(tf.sub(mambaCoreWithCache(x, z, wt).out, mambaCoreReference(x, z, wt)))).dataSync()[0];
  });
  assert.equal(diff, 0); // the same ops
  tf.dispose(Object.values(wt));
});
