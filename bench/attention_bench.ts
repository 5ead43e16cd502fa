/**
 * Benchmark (prints numbers; not a test): milliseconds of one forward + backward of causal attention, fast
 * customGrad op (WebAssembly kernels) vs tf-op reference, as tf.grads of sum(out * R) w.r.t. x and all four
 * weights; first the same harness around an op that does nothing.
 *
 *   deno run -A bench/attention_bench.ts            # b=64, l=64, d=8 with h=1,2,4, RoPE off/on
 *   deno run -A bench/attention_bench.ts --wide     # also d=64 with h=4,8
 *   deno run -A bench/attention_bench.ts --eval     # also a forward-only pass at b=256, l=192, d=8, h=4
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import {
  type AttentionOptions,
  type AttentionWeights,
  causalAttention,
  causalAttentionReference,
} from "../lib/models/attention.ts";

type Attention = typeof causalAttention;

/**
 * Same inputs and outputs as the attention op, no work: zeros out, zero gradients. Its fwd+bwd time is the cost
 * of the benchmark's loss and tf.grads around the op, included in the other rows.
 */
function noopAttention(x: tf.Tensor3D, w: AttentionWeights): tf.Tensor3D {
  const noop = tf.customGrad(
    ((...args: tf.Tensor[]) => ({
      value: tf.zerosLike(args[0]),
      gradFunc: (): tf.Tensor[] => args.slice(0, 5).map((t) => tf.zerosLike(t)),
    })) as Parameters<typeof tf.customGrad>[0],
  );
  return noop(x, w.wq, w.wk, w.wv, w.wo) as tf.Tensor3D;
}

function lcgTensor(seed: number, shape: number[], scale: number): tf.Tensor {
  let state = seed >>> 0;
  const n = shape.reduce((a, c) => a * c, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = ((state / 2 ** 32) * 2 - 1) * scale;
  }
  return tf.tensor(values, shape);
}

/**
 * Wall-clock median and minimum in ms, and the process CPU time per call. On a shared, busy machine the wall
 * clock includes waiting for a core; CPU time (all threads, so slightly above the compute) does not.
 */
interface Timing {
  readonly median: number;
  readonly min: number;
  readonly cpu: number;
}

/** Median, min and CPU time of `repeats` runs after `warmup` untimed ones (V8 tiers hot wasm and JS up). */
function timeIt(run: () => void, repeats: number, warmup: number): Timing {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuStart);
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(times.length / 2)],
    min: times[0],
    cpu: (cpu.user + cpu.system) / 1000 / repeats,
  };
}

function show(t: Timing): string {
  const f = (v: number): string => v.toFixed(2).padStart(7);
  return `${f(t.median)} (min ${f(t.min)}, cpu ${f(t.cpu)})`;
}

function forwardBackwardMs(
  f: Attention,
  b: number,
  l: number,
  d: number,
  opts: AttentionOptions,
  repeats: number,
  warmup: number,
): Timing {
  const x = lcgTensor(1, [b, l, d], 1);
  const r = lcgTensor(2, [b, l, d], 1);
  const ws = [3, 4, 5, 6].map((s) => lcgTensor(s, [d, d], 1 / Math.sqrt(d)));
  const grad = tf.grads((xi: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor) => {
    const w = { wq, wk, wv, wo } as AttentionWeights;
    return tf.sum(tf.mul(f(xi as tf.Tensor3D, w, opts), r));
  });
  const ms = timeIt(
    () => {
      const grads = grad([x, ...ws]);
      for (const g of grads) g.dataSync();
      tf.dispose(grads);
    },
    repeats,
    warmup,
  );
  tf.dispose([x, r, ...ws]);
  return ms;
}

function forwardMs(f: Attention, b: number, l: number, d: number, opts: AttentionOptions, repeats: number): Timing {
  const x = lcgTensor(1, [b, l, d], 1);
  const [wq, wk, wv, wo] = [3, 4, 5, 6].map((s) => lcgTensor(s, [d, d], 1 / Math.sqrt(d)) as tf.Tensor2D);
  const ms = timeIt(
    () => {
      const out = f(x as tf.Tensor3D, { wq, wk, wv, wo }, opts);
      out.dataSync();
      out.dispose();
    },
    repeats,
    2,
  );
  tf.dispose([x, wq, wk, wv, wo]);
  return ms;
}

function report(b: number, l: number, d: number, heads: number[], repeats: number): void {
  for (const h of heads) {
    for (const rope of [false, true]) {
      const opts = { heads: h, rope };
      const fast = forwardBackwardMs(causalAttention, b, l, d, opts, repeats, 5);
      const ref = forwardBackwardMs(causalAttentionReference, b, l, d, opts, Math.max(3, repeats / 4), 2);
      console.log(
        `b=${b} l=${l} d=${d} h=${h} rope=${rope ? "on " : "off"}  fast ${show(fast)} ms` +
          `   reference ${show(ref)} ms   x${(ref.median / fast.median).toFixed(1)}`,
      );
    }
  }
}

const info = await initBackend();
console.log(`backend ${info.backend} (${info.wasmBinary}), tfjs ${info.tfjs}; load average ${Deno.loadavg()[0]}`);
console.log("ms per forward + backward: wall median (wall min, CPU time per call)");
const harness = forwardBackwardMs(noopAttention, 64, 64, 8, { heads: 4, rope: false }, 41, 5);
console.log(`b=64 l=64 d=8 no-op op (harness: loss and tf.grads, included below) ${show(harness)} ms`);
report(64, 64, 8, [1, 2, 4], 41);
if (Deno.args.includes("--wide")) report(64, 64, 64, [4, 8], 11);
console.log(`load average ${Deno.loadavg()[0]}`);
if (Deno.args.includes("--eval")) {
  const opts = { heads: 4, rope: true };
  const fast = forwardMs(causalAttention, 256, 192, 8, opts, 11);
  const ref = forwardMs(causalAttentionReference, 256, 192, 8, opts, 5);
  console.log(`forward only b=256 l=192 d=8 h=4 rope=on  fast ${show(fast)} ms   reference ${show(ref)} ms`);
}
