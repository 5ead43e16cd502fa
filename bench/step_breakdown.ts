/**
 * Benchmark (prints numbers; not a test): where one training step's time goes, per model, at B=64, L=64, K=16:
 * forward (recording the tape), backward (tf.variableGrads after the forward, loss read back), optimiser
 * (Adam), and of forward and backward the part spent inside the mixers' fused kernels (attention layer, Mamba
 * core: lib/kernels/kernel_clock.ts); "around" is the step minus those kernels (embedding, LayerNorms, residual
 * adds, Mamba's in/out projections, readout and loss, the tape, Adam). Prints a Markdown table: median over
 * the timed steps for each part, and the step's min and median. Warm-up matters: the wasm kernels are
 * tiered up by the engine during the first model's first few dozen steps (with 10 warm-up steps the first
 * model measured ~0.5 ms slower in forward than the same model run again), hence 30 by default.
 *
 *   deno run -A bench/step_breakdown.ts                       # every model at d=8 at its recipe, Mamba also d=64
 *   deno run -A bench/step_breakdown.ts --models tf-rope:8 --heads 1 --steps 200
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { buildModel } from "../lib/models/model.ts";
import { Adam } from "../lib/training/adam.ts";
import { kernelClock } from "../lib/kernels/kernel_clock.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    models: { type: "string", default: [...MODEL_NAMES.map((m) => `${m}:8`), "mamba:64"].join(",") },
    heads: { type: "string" },
    steps: { type: "string", default: "60" },
    warmup: { type: "string", default: "30" },
  },
});

interface Parts {
  step: number;
  forward: number;
  forwardKernels: number;
  backward: number;
  backwardKernels: number;
  optimiser: number;
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function breakdown(model: ModelName, d: number, heads: number | undefined, steps: number, warmup: number): {
  heads: number;
  parts: Parts[];
} {
  const config = resolve({ model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0, ...(heads ? { heads } : {}) });
  const net = buildModel(config, substream(0, "init"));
  const vars = net.params.map((p) => p.variable);
  const adam = new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 });
  const rng = substream(0, "train");
  const parts: Parts[] = [];
  kernelClock.enabled = true;
  for (let i = 0; i < warmup + steps; i++) {
    const batch = arBatch(rng, { K: 16, M: 1, tau: 1 }, 64, 64);
    kernelClock.forwardMs = kernelClock.backwardMs = 0;
    let t1 = 0;
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const loss = net.loss(batch.tokens, batch.labels, 64, 64);
      t1 = performance.now();
      return loss;
    }, vars);
    value.dataSync();
    const t2 = performance.now();
    adam.step(vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
    const t3 = performance.now();
    if (i >= warmup) {
      parts.push({
        step: t3 - t0,
        forward: t1 - t0,
        forwardKernels: kernelClock.forwardMs,
        backward: t2 - t1,
        backwardKernels: kernelClock.backwardMs,
        optimiser: t3 - t2,
      });
    }
  }
  kernelClock.enabled = false;
  net.dispose();
  return { heads: config.heads, parts };
}

await initBackend();
const steps = Number(values.steps), warmup = Number(values.warmup);
const heads = values.heads === undefined ? undefined : Number(values.heads);
console.log(`B=64 L=64 K=16, ${steps} timed steps after ${warmup}; medians per part, ms`);
console.log("");
console.log(
  "| model | d | heads | step min | step median | forward (kernels) | backward (kernels) | optimiser | around the kernels |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const entry of values.models.split(",")) {
  const [name, dText] = entry.trim().split(":");
  if (!(MODEL_NAMES as readonly string[]).includes(name)) throw new Error(`unknown model ${name}`);
  const r = breakdown(name as ModelName, Number(dText ?? 8), heads, steps, warmup);
  const m = (f: (p: Parts) => number): string => medianOf(r.parts.map(f)).toFixed(2);
  const min = Math.min(...r.parts.map((p) => p.step)).toFixed(2);
  console.log(
    `| ${name} | ${dText ?? 8} | ${r.heads || "-"} | ${min} | ${m((p) => p.step)} | ${m((p) => p.forward)} (${
      m((p) => p.forwardKernels)
    }) | ${m((p) => p.backward)} (${m((p) => p.backwardKernels)}) | ${m((p) => p.optimiser)} | ${
      m((p) => p.step - p.forwardKernels - p.backwardKernels)
    } |`,
  );
}
