import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import {
  mambaBlock,
  mambaBlockLast,
  mambaBlockLastReference,
  mambaBlockReference,
  type MambaProjections,
} from "../lib/models/mamba_block.ts";
import { mambaCore, type MambaCoreWeights, setStoredExpBudget } from "../lib/models/mamba_core.ts";
import { ROW_PROJECTION_MAX_DIM } from "../lib/kernels/mamba_kernels.ts";
import { linear } from "../lib/models/linear.ts";
import { setOffsetMode } from "../lib/kernels/assembler.ts";
import { mt19937 } from "../lib/task/random.ts";
import { gaussian } from "./fixtures/numeric.ts";

await initBackend();

const NAMES = ["x", "inX", "inZ", "convW", "convB", "xProj", "dtProj", "dtBias", "aLog", "D", "out"];

/** The block's eleven inputs in NAMES order, at model dim d (e = 2d, n = 4 or 16, r = 1). */
function makeInputs(seed: number, b: number, l: number, d: number, n: number): tf.Tensor[] {
  const rng = mt19937(seed);
  const e = 2 * d, r = 1;
  const aLog = tf.tidy(() =>
    tf.add(
      tf.log(tf.tile(tf.reshape(tf.range(1, n + 1, 1, "float32"), [1, n]), [e, 1])),
      gaussian(rng, [e, n], 0.3),
    )
  );
  return [
    gaussian(rng, [b, l, d], 1), // x
    gaussian(rng, [d, e], 1 / Math.sqrt(d)), // inX
    gaussian(rng, [d, e], 1 / Math.sqrt(d)), // inZ
    gaussian(rng, [e, 4], 0.5), // convW
    gaussian(rng, [e], 0.2), // convB
    gaussian(rng, [e, r + 2 * n], 0.5), // xProj
    gaussian(rng, [r, e], 0.5), // dtProj
    gaussian(rng, [e], 0.5, -1), // dtBias
    aLog,
    gaussian(rng, [e], 0.3, 1), // D
    gaussian(rng, [e, d], 1 / Math.sqrt(e)), // out
  ];
}

type Block = typeof mambaBlock;

function apply(block: Block, t: readonly tf.Tensor[]): tf.Tensor3D {
  const p: MambaProjections = { inX: t[1] as tf.Tensor2D, inZ: t[2] as tf.Tensor2D, out: t[10] as tf.Tensor2D };
  const core: MambaCoreWeights = {
    convW: t[3] as tf.Tensor2D,
    convB: t[4] as tf.Tensor1D,
    xProj: t[5] as tf.Tensor2D,
    dtProj: t[6] as tf.Tensor2D,
    dtBias: t[7] as tf.Tensor1D,
    aLog: t[8] as tf.Tensor2D,
    D: t[9] as tf.Tensor1D,
  };
  return block(t[0] as tf.Tensor3D, p, core);
}

/** max |a - b| / max |b|. */
function relErr(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = a.dataSync(), y = b.dataSync();
  let diff = 0, scale = 0;
  for (let i = 0; i < x.length; i++) {
    diff = Math.max(diff, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  assert.ok(scale > 0, "reference is all zeros");
  return diff / scale;
}

// d = 4, 8, 16 project with row kernels, d = 20 and 32 with GEMM tiles; d = 6 (not a multiple of 4) runs the
// matMuls around the core
const CASES = [
  { b: 2, l: 7, d: 4, n: 4 },
  { b: 2, l: 9, d: 8, n: 16 },
  { b: 3, l: 5, d: 16, n: 4 },
  { b: 2, l: 6, d: 20, n: 4 },
  { b: 3, l: 7, d: 32, n: 16 },
  { b: 2, l: 5, d: 6, n: 4 },
];

function projectionsOf(d: number): string {
  if (d % 4 !== 0) return "matMuls";
  return d <= ROW_PROJECTION_MAX_DIM ? "fused, row projections" : "fused, GEMM projections";
}

for (const c of CASES) {
  const label = `d=${c.d} ${projectionsOf(c.d)}`;
  Deno.test(`fast Mamba block matches the tf reference in value and all eleven gradients (${label})`, () => {
    const inputs = makeInputs(11 + c.d, c.b, c.l, c.d, c.n);
    const weight = gaussian(mt19937(3), [c.b, c.l, c.d], 1);
    tf.tidy(() => {
      const err = relErr(apply(mambaBlock, inputs), apply(mambaBlockReference, inputs));
      assert.ok(err < 1e-4, `value: relative error ${err}`);
      const gradsOf = (block: Block): tf.Tensor[] =>
        tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(block, t), weight)))(inputs);
      const fast = gradsOf(mambaBlock);
      const ref = gradsOf(mambaBlockReference);
      assert.equal(fast.length, NAMES.length);
      NAMES.forEach((name, i) => {
        assert.deepEqual(fast[i].shape, inputs[i].shape, `${name} gradient shape`);
        const gErr = relErr(fast[i], ref[i]);
        assert.ok(gErr < 1e-3, `${name}: relative error ${gErr}`);
      });
    });
    tf.dispose([...inputs, weight]);
  });
}

/** linear -> mambaCore -> linear: the fast block as it ran at d > 16 before its projections moved into the op. */
const linearAroundCore: Block = (x, p, core) =>
  linear(mambaCore(linear(x, p.inX) as tf.Tensor3D, linear(x, p.inZ) as tf.Tensor3D, core), p.out) as tf.Tensor3D;

/** Indices where two tensors' float32 bit patterns differ. */
function bitDiffs(a: tf.Tensor, b: tf.Tensor): number[] {
  assert.deepEqual(a.shape, b.shape);
  const x = new Uint32Array(new Float32Array(a.dataSync()).buffer),
    y = new Uint32Array(new Float32Array(b.dataSync()).buffer);
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) out.push(i);
  return out;
}

for (const c of [{ b: 2, l: 6, d: 20, n: 4 }, { b: 4, l: 16, d: 64, n: 16 }]) {
  Deno.test(`fused Mamba block with GEMM projections equals linear around mambaCore bit for bit, value and all eleven gradients (d=${c.d})`, () => {
    const inputs = makeInputs(21 + c.d, c.b, c.l, c.d, c.n);
    const weight = gaussian(mt19937(4), [c.b, c.l, c.d], 1);
    tf.tidy(() => {
      assert.deepEqual(bitDiffs(apply(mambaBlock, inputs), apply(linearAroundCore, inputs)), [], "value");
      const gradsOf = (block: Block): tf.Tensor[] =>
        tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(block, t), weight)))(inputs);
      const fused = gradsOf(mambaBlock);
      const composed = gradsOf(linearAroundCore);
      NAMES.forEach((name, i) => assert.deepEqual(bitDiffs(fused[i], composed[i]), [], `${name} gradient`));
    });
    tf.dispose([...inputs, weight]);
  });
}

/** A weight on the output that is zero before the last position: what a readout of the last position sends back. */
function lastOnlyWeight(b: number, l: number, d: number): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(gaussian(mt19937(8), [b, l, d], 1), tf.oneHot(tf.fill([b], l - 1, "int32"), l).reshape([b, l, 1]))
  );
}

for (const c of [...CASES, { b: 2, l: 9, d: 64, n: 16 }]) {
  Deno.test(`Mamba block at the last position only equals the full block's last position bit for bit and the reference's to 1e-3, value and all eleven gradients (d=${c.d} ${projectionsOf(c.d)})`, () => {
    const inputs = makeInputs(31 + c.d, c.b, c.l, c.d, c.n);
    const weight = lastOnlyWeight(c.b, c.l, c.d);
    const lastWeight = tf.slice(weight, [0, c.l - 1, 0], [c.b, 1, c.d]);
    const full: Block = (x, p, core) => tf.slice(mambaBlock(x, p, core), [0, c.l - 1, 0], [c.b, 1, c.d]);
    tf.tidy(() => {
      const last = apply(mambaBlockLast, inputs);
      assert.deepEqual(last.shape, [c.b, 1, c.d]);
      assert.deepEqual(bitDiffs(last, apply(full, inputs)), [], "value");
      const gradsOf = (block: Block): tf.Tensor[] =>
        tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(block, t), lastWeight)))(inputs);
      const lastGrads = gradsOf(mambaBlockLast);
      const fullGrads = gradsOf(full);
      NAMES.forEach((name, i) => assert.deepEqual(bitDiffs(lastGrads[i], fullGrads[i]), [], `${name} gradient`));
      // and the plain tf reference's last position agrees with it as the full blocks do, value and gradients
      assert.ok(relErr(last, apply(mambaBlockLastReference, inputs)) < 1e-4, "reference value");
      const refGrads = gradsOf(mambaBlockLastReference);
      NAMES.forEach((name, i) => {
        const gErr = relErr(lastGrads[i], refGrads[i]);
        assert.ok(gErr < 1e-3, `${name} vs reference: relative error ${gErr}`);
      });
    });
    tf.dispose([...inputs, weight, lastWeight]);
  });
}

Deno.test("the last-position block's backward gives the same gradients bit for bit with the exp(delta A) table stored or recomputed", () => {
  for (const c of [{ b: 2, l: 9, d: 8, n: 16 }, { b: 2, l: 6, d: 20, n: 4 }]) {
    const inputs = makeInputs(41 + c.d, c.b, c.l, c.d, c.n);
    const weight = gaussian(mt19937(9), [c.b, 1, c.d], 1);
    tf.tidy(() => {
      const gradsOf = (): Float32Array[] =>
        tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(mambaBlockLast, t), weight)))(inputs)
          .map((g) => new Float32Array(g.dataSync()));
      const stored = gradsOf();
      const previous = setStoredExpBudget(0);
      try {
        const recomputed = gradsOf();
        NAMES.forEach((name, i) => assert.deepEqual(stored[i], recomputed[i], `${name} (d=${c.d})`));
      } finally {
        setStoredExpBudget(previous);
      }
    });
    tf.dispose([...inputs, weight]);
  }
});

Deno.test("fused Mamba block: changing x at t = 3 changes out from t = 3 on, never before", () => {
  const inputs = makeInputs(5, 2, 8, 8, 16);
  const x = inputs[0].arraySync() as number[][][];
  x[1][3] = x[1][3].map((v) => v + 0.5);
  const moved = tf.tensor3d(x);
  tf.tidy(() => {
    const a = apply(mambaBlock, inputs).arraySync();
    const b = apply(mambaBlock, [moved, ...inputs.slice(1)]).arraySync();
    for (let t = 0; t < 8; t++) {
      const changed = a[1][t].some((v, j) => v !== b[1][t][j]);
      assert.equal(changed, t >= 3, `position ${t}`);
      assert.deepEqual(a[0][t], b[0][t], `other batch row, position ${t}`);
    }
  });
  tf.dispose([...inputs, moved]);
});

Deno.test("fused Mamba block: repeated taped steps and untaped forwards leak no tensors", () => {
  const inputs = makeInputs(6, 2, 8, 8, 16);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      apply(mambaBlock, inputs).dataSync();
      tf.grads((...t: tf.Tensor[]) => tf.sum(apply(mambaBlock, t)))(inputs).forEach((g) => g.dataSync());
    });
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(inputs);
});

Deno.test("the block's kernels give the same outputs and gradients bit for bit with address offsets as explicit adds or as immediates", () => {
  // full and last-position blocks, the stored and the recomputing scans, a row-projection and a GEMM-tile width
  for (const c of [{ b: 2, l: 9, d: 8, n: 16 }, { b: 2, l: 6, d: 20, n: 4 }]) {
    const inputs = makeInputs(51 + c.d, c.b, c.l, c.d, c.n);
    for (const [block, rows] of [[mambaBlock, c.l], [mambaBlockLast, 1]] as const) {
      const weight = gaussian(mt19937(10), [c.b, rows, c.d], 1);
      for (const budget of [undefined, 0]) {
        const run = (): Float32Array[] =>
          tf.tidy(() => {
            const value = apply(block, inputs);
            const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(block, t), weight)))(inputs);
            return [value, ...grads].map((g) => new Float32Array(g.dataSync()));
          });
        const previousBudget = budget === undefined ? undefined : setStoredExpBudget(budget);
        try {
          const explicit = run();
          const previousMode = setOffsetMode("immediate");
          let immediate: Float32Array[];
          try {
            immediate = run();
          } finally {
            setOffsetMode(previousMode);
          }
          ["out", ...NAMES].forEach((name, i) =>
            assert.deepEqual(explicit[i], immediate[i], `${name} (d=${c.d}, rows ${rows}, budget ${budget})`)
          );
        } finally {
          if (previousBudget !== undefined) setStoredExpBudget(previousBudget);
        }
      }
      weight.dispose();
    }
    tf.dispose(inputs);
  }
});
