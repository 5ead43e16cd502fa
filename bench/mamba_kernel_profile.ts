/**
 * Benchmark (prints numbers; not a test): per-kernel time of the Mamba block's kernels inside real training
 * steps (B=64, L=64, K=16), by wrapping each entry point of the compiled kernel set with a stopwatch.
 *
 *   deno run -A bench/mamba_kernel_profile.ts [--d 8] [--steps 100] [--warmup 30] [--model mamba]
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type ModelName, resolve } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { buildModel } from "../lib/models/model.ts";
import { Adam } from "../lib/training/adam.ts";
import { coreKernels } from "../lib/kernels/mamba_kernels.ts";
import type { Kernel } from "../lib/kernels/assembler.ts";
import { kernelClock } from "../lib/kernels/kernel_clock.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    d: { type: "string", default: "8" },
    model: { type: "string", default: "mamba" },
    steps: { type: "string", default: "100" },
    warmup: { type: "string", default: "30" },
  },
});

await initBackend();
const d = Number(values.d), steps = Number(values.steps), warmup = Number(values.warmup);
const config = resolve({ model: values.model as ModelName, K: 16, d, M: 1, L: 64, tau: 1, seed: 0 });
const k = coreKernels(config.mambaState, config.dtRank, config.convWidth, config.mambaInner, d) as unknown as Record<
  string,
  unknown
>;
const totals = new Map<string, number[]>();
let current = new Map<string, number>();
for (const [name, f] of Object.entries(k)) {
  if (typeof f !== "function") continue;
  const kernel = f as Kernel;
  k[name] = (...args: number[]): number | void => {
    const t0 = performance.now();
    const r = kernel(...args);
    current.set(name, (current.get(name) ?? 0) + performance.now() - t0);
    return r;
  };
}
const net = buildModel(config, substream(0, "init"));
const vars = net.params.map((p) => p.variable);
const adam = new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 });
const rng = substream(0, "train");
const stepMs: number[] = [];
const fwdMs: number[] = [];
const bwdMs: number[] = [];
kernelClock.enabled = true;
for (let i = 0; i < warmup + steps; i++) {
  const batch = arBatch(rng, { K: 16, M: 1, tau: 1 }, 64, 64);
  current = new Map();
  kernelClock.forwardMs = kernelClock.backwardMs = 0;
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, 64, 64), vars);
  value.dataSync();
  adam.step(vars.map((v) => grads[v.name]));
  tf.dispose([value, ...Object.values(grads)]);
  if (i >= warmup) {
    stepMs.push(performance.now() - t0);
    fwdMs.push(kernelClock.forwardMs);
    bwdMs.push(kernelClock.backwardMs);
    for (const [name, ms] of current) totals.set(name, [...(totals.get(name) ?? []), ms]);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(
  `${values.model} d=${d}: step median ${median(stepMs).toFixed(2)} min ${Math.min(...stepMs).toFixed(2)} ms`,
);
console.log(`clocked block forward ${median(fwdMs).toFixed(2)}, backward ${median(bwdMs).toFixed(2)} ms`);
let sum = 0;
for (const [name, xs] of [...totals].sort((a, b) => median(b[1]) - median(a[1]))) {
  sum += median(xs);
  console.log(`${name.padEnd(24)} median ${median(xs).toFixed(3)} min ${Math.min(...xs).toFixed(3)} ms per step`);
}
console.log(`sum of kernel medians ${sum.toFixed(2)} ms`);
