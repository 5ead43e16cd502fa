/**
 * Benchmark (prints numbers; not a test): the GEMM kernels of lib/kernels/gemm.ts against tf.matMul (XNNPACK) at
 * the Mamba block's d = 64 shapes (b l = 4096 rows), per tile shape; "tn" products also per reduction chunk.
 * Median and min of 40 runs after 5, ms. tf.matMul's "tn" row gets A already transposed (the kernels need no
 * transposed copy).
 *
 *   deno run -A bench/gemm_bench.ts                    # tiles 4x8,5x8,6x8,2x16,3x12; chunks 256,512,1024
 *   deno run -A bench/gemm_bench.ts --tiles 5x8,2x16 --chunks 512
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend } from "../lib/platform/backend.ts";
import { mt19937 } from "../lib/task/random.ts";
import { instantiate, reserve, view } from "../lib/kernels/assembler.ts";
import { gemmKernel, nnLayout, tnLayout } from "../lib/kernels/gemm.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    tiles: { type: "string", default: "4x8,5x8,6x8,2x16,3x12" },
    chunks: { type: "string", default: "256,512,1024" },
  },
});

const ROWS = 4096;
const tiles = values.tiles.split(",").map((s) => {
  const [mr, cols] = s.split("x").map(Number);
  if (!(mr > 0) || !(cols > 0) || cols % 4 !== 0) {
    throw new Error(`bad tile ${s}: want <rows>x<columns, a multiple of 4>`);
  }
  return { mr, nv: cols / 4, label: s };
});
const chunks = values.chunks.split(",").map(Number);

function time(fn: () => void, reps = 40): string {
  for (let i = 0; i < 5; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return `${ts[ts.length >> 1].toFixed(2)} (min ${ts[0].toFixed(2)})`;
}

await initBackend();
const rng = mt19937(2);
const gaussians = (size: number): Float32Array => Float32Array.from({ length: size }, () => rng.gaussian());
for (const [t, q] of [[64, 128], [128, 64]]) {
  const a = gaussians(ROWS * t), b = gaussians(t * q);
  const ta = tf.tensor2d(a, [ROWS, t]), tb = tf.tensor2d(b, [t, q]);
  console.log(`nn [${ROWS}, ${t}] x [${t}, ${q}]: tf.matMul ${time(() => tf.tidy(() => void tf.matMul(ta, tb)))}`);
  for (const { mr, nv, label } of tiles) {
    const { memory, kernel } = instantiate([gemmKernel({ ...nnLayout("k", t, q, "write"), mr, nv })]);
    const at = reserve(memory, { a: a.length, b: b.length, c: ROWS * q });
    view(memory, at.a, a.length).set(a);
    view(memory, at.b, b.length).set(b);
    const k = kernel("k");
    console.log(`  ${label.padEnd(5)} ${time(() => k(at.a, at.b, at.c, ROWS, t))}`);
  }
  tf.dispose([ta, tb]);
}
for (const [p, q] of [[64, 128], [128, 64]]) {
  const a = gaussians(ROWS * p), b = gaussians(ROWS * q);
  const taT = tf.transpose(tf.tensor2d(a, [ROWS, p])), tb = tf.tensor2d(b, [ROWS, q]);
  console.log(
    `tn [${ROWS}, ${p}]^T x [${ROWS}, ${q}]: tf.matMul ${time(() => tf.tidy(() => void tf.matMul(taT, tb)))}`,
  );
  for (const chunk of chunks) {
    for (const { mr, nv, label } of tiles) {
      const { memory, kernel } = instantiate([gemmKernel({ ...tnLayout("k", p, q), mr, nv, tChunk: chunk })]);
      const at = reserve(memory, { a: a.length, b: b.length, c: p * q });
      view(memory, at.a, a.length).set(a);
      view(memory, at.b, b.length).set(b);
      const k = kernel("k");
      const run = (): void => {
        view(memory, at.c, p * q).fill(0);
        k(at.a, at.b, at.c, p, ROWS);
      };
      console.log(`  chunk ${String(chunk).padEnd(5)} ${label.padEnd(5)} ${time(run)}`);
    }
  }
  tf.dispose([taT, tb]);
}
