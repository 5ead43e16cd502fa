/**
 * Benchmark (prints numbers; not a test): milliseconds of one forward + backward of causal attention, fast
 * customGrad op vs tf-op reference, as tf.grads of sum(out * R) w.r.t. x and all four weights.
 *
 *   deno run -A bench/attention_bench.ts            # b=64, l=64, d=8 with h=1,2,4, RoPE off/on
 *   deno run -A bench/attention_bench.ts --wide     # also d=64 with h=4,8
 *   deno run -A bench/attention_bench.ts --eval     # also a forward-only pass at b=256, l=192, d=8, h=4
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend.ts";
import {
  type AttentionOptions,
  type AttentionWeights,
  causalAttention,
  causalAttentionReference,
} from "../lib/models/attention.ts";

type Attention = typeof causalAttention;

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

function timeIt(run: () => void, repeats: number): Timing {
  run();
  run();
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
): Timing {
  const x = lcgTensor(1, [b, l, d], 1);
  const r = lcgTensor(2, [b, l, d], 1);
  const ws = [3, 4, 5, 6].map((s) => lcgTensor(s, [d, d], 1 / Math.sqrt(d)));
  const grad = tf.grads((xi: tf.Tensor, wq: tf.Tensor, wk: tf.Tensor, wv: tf.Tensor, wo: tf.Tensor) => {
    const w = { wq, wk, wv, wo } as AttentionWeights;
    return tf.sum(tf.mul(f(xi as tf.Tensor3D, w, opts), r));
  });
  const ms = timeIt(() => {
    const grads = grad([x, ...ws]);
    for (const g of grads) g.dataSync();
    tf.dispose(grads);
  }, repeats);
  tf.dispose([x, r, ...ws]);
  return ms;
}

function forwardMs(f: Attention, b: number, l: number, d: number, opts: AttentionOptions): Timing {
  const x = lcgTensor(1, [b, l, d], 1);
  const [wq, wk, wv, wo] = [3, 4, 5, 6].map((s) => lcgTensor(s, [d, d], 1 / Math.sqrt(d)) as tf.Tensor2D);
  const ms = timeIt(() => {
    const out = f(x as tf.Tensor3D, { wq, wk, wv, wo }, opts);
    out.dataSync();
    out.dispose();
  }, 5);
  tf.dispose([x, wq, wk, wv, wo]);
  return ms;
}

function report(b: number, l: number, d: number, heads: number[], repeats: number): void {
  for (const h of heads) {
    for (const rope of [false, true]) {
      const opts = { heads: h, rope };
      const fast = forwardBackwardMs(causalAttention, b, l, d, opts, repeats);
      const ref = forwardBackwardMs(causalAttentionReference, b, l, d, opts, Math.max(3, repeats / 4));
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
report(64, 64, 8, [1, 2, 4], 41);
if (Deno.args.includes("--wide")) report(64, 64, 64, [4, 8], 11);
console.log(`load average ${Deno.loadavg()[0]}`);
if (Deno.args.includes("--eval")) {
  const opts = { heads: 4, rope: true };
  const fast = forwardMs(causalAttention, 256, 192, 8, opts);
  const ref = forwardMs(causalAttentionReference, 256, 192, 8, opts);
  console.log(`forward only b=256 l=192 d=8 h=4 rope=on  fast ${show(fast)} ms   reference ${show(ref)} ms`);
}
