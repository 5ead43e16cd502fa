import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import {
  type AttentionOptions,
  type AttentionWeights,
  causalAttention,
  causalAttentionReference,
} from "../lib/models/attention.ts";
import { attentionKernels } from "../lib/kernels/attention_kernels.ts";
import { ropeScores } from "../lib/models/rope.ts";
import { lcgValues, relativeError } from "./fixtures/numeric.ts";

await initBackend();

function randomX(seed: number, b: number, l: number, d: number): tf.Tensor3D {
  return tf.tensor3d(lcgValues(seed, b * l * d), [b, l, d]);
}

/** Weights scaled like a trained layer (entries up to ~1), large enough to make softmax rows uneven. */
function randomWeights(seed: number, d: number): AttentionWeights {
  const m = (s: number): tf.Tensor2D => tf.tensor2d(lcgValues(s, d * d).map((v) => 1.5 * v), [d, d]);
  return { wq: m(seed), wk: m(seed + 1), wv: m(seed + 2), wo: m(seed + 3) };
}

function disposeWeights(w: AttentionWeights): void {
  tf.dispose([w.wq, w.wk, w.wv, w.wo]);
}

const CASES: AttentionOptions[] = [1, 2, 4].flatMap((heads) => [
  { heads, rope: false },
  { heads, rope: true },
]);
const B = 2;
const L = 6;
const D = 8;

Deno.test("fast attention matches the tf-op reference in value (h = 1, 2, 4; RoPE on and off)", () => {
  for (const opts of CASES) {
    const x = randomX(11, B, L, D);
    const w = randomWeights(20, D);
    const fast = causalAttention(x, w, opts);
    const ref = causalAttentionReference(x, w, opts);
    assert.deepEqual(fast.shape, [B, L, D]);
    const err = relativeError(fast, ref);
    assert.ok(err < 1e-4, `heads=${opts.heads} rope=${opts.rope}: relative error ${err}`);
    tf.dispose([x, fast, ref]);
    disposeWeights(w);
  }
});

Deno.test("fast attention gradients for x and all four weights match tf autodiff of the reference", () => {
  for (const opts of CASES) {
    const x = randomX(31, B, L, D);
    const w = randomWeights(40, D);
    const r = randomX(50, B, L, D);
    const gradsOf = (f: typeof causalAttention): tf.Tensor[] =>
      tf.grads((xi: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor) => {
        const weights = { wq, wk, wv, wo } as AttentionWeights;
        return tf.sum(tf.mul(f(xi as tf.Tensor3D, weights, opts), r));
      })([x, w.wq, w.wk, w.wv, w.wo]);
    const fast = gradsOf(causalAttention);
    const ref = gradsOf(causalAttentionReference);
    ["x", "wq", "wk", "wv", "wo"].forEach((name, i) => {
      const err = relativeError(fast[i], ref[i]);
      assert.ok(err < 1e-3, `heads=${opts.heads} rope=${opts.rope} d${name}: relative error ${err}`);
    });
    tf.dispose([x, r, ...fast, ...ref]);
    disposeWeights(w);
  }
});

Deno.test("changing the input at position p never changes the output before p (p = 1, 3, 4)", () => {
  // p = 1 and 3 sit inside the kernels' first block of four positions, p = 4 starts the next one
  for (const opts of [{ heads: 2, rope: false }, { heads: 2, rope: true }]) {
    for (const p of [1, 3, 4]) {
      const values = lcgValues(61, B * L * D);
      const changed = values.slice();
      for (let bi = 0; bi < B; bi++) {
        for (let c = 0; c < D; c++) changed[(bi * L + p) * D + c] += 0.7;
      }
      const w = randomWeights(70, D);
      const x1 = tf.tensor3d(values, [B, L, D]);
      const x2 = tf.tensor3d(changed, [B, L, D]);
      const y1 = causalAttention(x1, w, opts);
      const y2 = causalAttention(x2, w, opts);
      const a = y1.arraySync();
      const b = y2.arraySync();
      for (let bi = 0; bi < B; bi++) {
        for (let t = 0; t < L; t++) {
          const moved = a[bi][t].some((v, c) => v !== b[bi][t][c]);
          assert.equal(moved, t >= p, `rope=${opts.rope} change at ${p}: batch ${bi} position ${t}`);
        }
      }
      tf.dispose([x1, x2, y1, y2]);
      disposeWeights(w);
    }
  }
});

Deno.test("RoPE attention scores depend only on the relative offset", () => {
  const k = 4;
  const q = lcgValues(81, k);
  const kk = lcgValues(82, k);
  for (const offset of [0, 1, 5]) {
    const base = ropeScores(q, kk, k, offset, 0);
    for (const shift of [1, 7, 150]) {
      const shifted = ropeScores(q, kk, k, offset + shift, shift);
      assert.ok(Math.abs(shifted - base) < 1e-9, `offset ${offset} shift ${shift}: ${shifted} vs ${base}`);
    }
  }
  const plain = q.reduce((sum, v, j) => sum + v * kk[j], 0);
  assert.ok(Math.abs(ropeScores(q, kk, k, 3, 3) - plain) < 1e-6, "offset 0 is the plain dot product");
  assert.ok(Math.abs(ropeScores(q, kk, k, 4, 0) - plain) > 1e-3, "a nonzero offset changes the score");
});

Deno.test("RoPE turns the interleaved pair (2i, 2i+1) by p * 10000^(-2i/k) at position p", () => {
  const k = 8;
  const unit = (j: number): Float32Array => {
    const e = new Float32Array(k);
    e[j] = 1;
    return e;
  };
  for (const i of [0, 1, 3]) {
    for (const p of [1, 5, 130]) {
      const angle = p * Math.pow(10000, (-2 * i) / k);
      const cos = ropeScores(unit(2 * i), unit(2 * i), k, p, 0);
      const sin = ropeScores(unit(2 * i), unit(2 * i + 1), k, p, 0);
      assert.ok(Math.abs(cos - Math.cos(angle)) < 1e-9, `cos pair ${i} position ${p}`);
      assert.ok(Math.abs(sin - Math.sin(angle)) < 1e-9, `sin pair ${i} position ${p}`);
    }
  }
});

Deno.test("fast attention matches the reference beyond the training length (l = 150, new RoPE rows)", () => {
  const opts = { heads: 4, rope: true };
  const x = randomX(91, 1, 150, D);
  const w = randomWeights(92, D);
  const fast = causalAttention(x, w, opts);
  const ref = causalAttentionReference(x, w, opts);
  const err = relativeError(fast, ref);
  assert.ok(err < 1e-4, `relative error ${err}`);
  tf.dispose([x, fast, ref]);
  disposeWeights(w);
});

/** max |a - b| / max |b|, or max |a| where b is all zeros (e.g. the query and key gradients at l = 1). */
function gradientError(a: tf.Tensor, b: tf.Tensor): number {
  const scale = Math.max(...Array.from(b.dataSync(), Math.abs));
  return scale > 0 ? relativeError(a, b) : Math.max(...Array.from(a.dataSync(), Math.abs));
}

interface Shape {
  readonly b: number;
  readonly l: number;
  readonly d: number;
  readonly heads: number;
  readonly rope: boolean;
}

// Lengths that leave a partial block of four positions (or only one), and other head dims: k = 16, 8, 3, 1.
const SHAPES: readonly Shape[] = [
  { b: 2, l: 1, d: 8, heads: 4, rope: true },
  { b: 2, l: 3, d: 8, heads: 2, rope: true },
  { b: 2, l: 5, d: 8, heads: 1, rope: false },
  { b: 1, l: 150, d: 8, heads: 4, rope: false },
  { b: 2, l: 13, d: 64, heads: 4, rope: true },
  { b: 2, l: 9, d: 64, heads: 8, rope: false },
  { b: 2, l: 7, d: 6, heads: 2, rope: false },
  { b: 2, l: 6, d: 4, heads: 4, rope: false },
];

for (const { b, l, d, heads, rope } of SHAPES) {
  Deno.test(`fast attention values and gradients match the reference at b=${b} l=${l} d=${d} h=${heads} rope=${rope}`, () => {
    const opts = { heads, rope };
    const x = randomX(121, b, l, d);
    const w = randomWeights(122, d);
    const r = randomX(123, b, l, d);
    const fast = causalAttention(x, w, opts);
    const ref = causalAttentionReference(x, w, opts);
    const err = relativeError(fast, ref);
    assert.ok(err < 1e-4, `value: relative error ${err}`);
    const gradsOf = (f: typeof causalAttention): tf.Tensor[] =>
      tf.grads((xi: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor) =>
        tf.sum(tf.mul(f(xi as tf.Tensor3D, { wq, wk, wv, wo } as AttentionWeights, opts), r))
      )([x, w.wq, w.wk, w.wv, w.wo]);
    const fastGrads = gradsOf(causalAttention);
    const refGrads = gradsOf(causalAttentionReference);
    ["x", "wq", "wk", "wv", "wo"].forEach((name, i) => {
      const gErr = gradientError(fastGrads[i], refGrads[i]);
      assert.ok(gErr < 1e-3, `d${name}: error ${gErr}`);
    });
    tf.dispose([x, r, fast, ref, ...fastGrads, ...refGrads]);
    disposeWeights(w);
  });
}

Deno.test("the kernels' memory does not grow over repeated calls, or for smaller shapes", () => {
  const opts = { heads: 4, rope: true };
  const w = randomWeights(131, D);
  const step = (b: number, l: number): void => {
    const x = randomX(132, b, l, D);
    const grads = tf.grads((xi: tf.Tensor) => tf.sum(causalAttention(xi as tf.Tensor3D, w, opts)))([x]);
    tf.tidy(() => causalAttention(x, w, opts)); // forward only, as in evaluation
    tf.dispose([x, ...grads]);
  };
  step(8, 40);
  const memory = attentionKernels(D, 4).memory;
  const size = memory.buffer.byteLength;
  for (let i = 0; i < 5; i++) step(8, 40);
  step(2, 9);
  step(8, 33);
  assert.equal(memory.buffer.byteLength, size);
  disposeWeights(w);
});

Deno.test("repeated gradient steps under tidy, variableGrads and optimizer.minimize leak no tensors", () => {
  const opts = { heads: 2, rope: true };
  const x = randomX(101, B, L, D);
  const w = randomWeights(102, D);
  const vars = {
    wq: tf.variable(w.wq),
    wk: tf.variable(w.wk),
    wv: tf.variable(w.wv),
    wo: tf.variable(w.wo),
  };
  const optimizer = tf.train.adam(1e-3);
  const loss = (): tf.Scalar => tf.sum(tf.square(causalAttention(x, vars, opts)));
  const step = (): void => {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(loss);
      tf.dispose(Object.values(grads));
    });
    optimizer.minimize(loss, true)?.dispose();
    tf.tidy(() => {
      causalAttention(x, vars, opts); // a forward-only call, as in evaluation
    });
  };
  step(); // the first minimize creates Adam's slot variables
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before);
  optimizer.dispose();
  tf.dispose([x, ...Object.values(vars)]);
  disposeWeights(w);
});

Deno.test("RoPE with an odd head dim throws a clear error", () => {
  const x = randomX(111, 1, 4, 6);
  const w = randomWeights(112, 6);
  assert.throws(() => causalAttention(x, w, { heads: 2, rope: true }), /even head dim/);
  assert.throws(() => causalAttentionReference(x, w, { heads: 2, rope: true }), /even head dim/);
  assert.throws(() => causalAttention(x, w, { heads: 4, rope: false }), /must divide d=6/);
  tf.dispose(x);
  disposeWeights(w);
});

Deno.test("a taped forward whose backward never runs does not disturb later gradients (weights slots)", () => {
  const opts = { heads: 4, rope: true };
  const x = randomX(91, B, L, D);
  const w = randomWeights(92, D);
  const r = randomX(93, B, L, D);
  const gradsOf = (): tf.Tensor[] =>
    tf.grads((xi: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor) =>
      tf.sum(tf.mul(causalAttention(xi as tf.Tensor3D, { wq, wk, wv, wo } as AttentionWeights, opts), r))
    )([x, w.wq, w.wk, w.wv, w.wo]);
  const first = gradsOf().map((g) => g.dataSync());
  // forwards under a tape whose gradients are never taken: their slots stay held
  for (let i = 0; i < 3; i++) {
    assert.throws(() =>
      tf.grads((xi: tf.Tensor) => {
        causalAttention(xi as tf.Tensor3D, w, opts);
        throw new Error("dropped");
      })([x])
    );
  }
  const again = gradsOf().map((g) => g.dataSync());
  first.forEach((g, i) => assert.deepEqual(again[i], g, `gradient ${i}`));
  tf.dispose([x, r]);
  disposeWeights(w);
});
