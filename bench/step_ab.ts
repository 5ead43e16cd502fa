/**
 * Benchmark (prints numbers; not a test): training steps of this checkout's model code and of another checkout's
 * (`--base`, e.g. a git worktree of main), built in ONE process and trained alternately step by step on the same
 * batches (B=64, L=64, K=16, each model at its recipe). Both see the same machine at every moment, so the paired
 * per-step difference is far steadier than comparing two runs on this shared machine, whose medians swing ~20%
 * from one minute to the next. Also checks that both give the same losses bit for bit (the kernels are separate
 * module instances, tfjs is shared). Per side it also prints the medians of the step's parts as
 * bench/step_breakdown.ts does: forward (recording the tape), backward, optimiser, the fused kernels' share of
 * forward and backward (each side's lib/kernels/kernel_clock.ts) and "around" (the step minus those kernels).
 *
 *   git worktree add --detach /tmp/base main
 *   deno run -A bench/step_ab.ts --base /tmp/base --models mamba:8,hybrid:8 --steps 300
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
    base: { type: "string" },
    models: { type: "string", default: "mamba:8" },
    steps: { type: "string", default: "300" },
    warmup: { type: "string", default: "40" },
  },
});
if (!values.base) {
  console.error("usage: deno run -A bench/step_ab.ts --base <checkout> [--models mamba:8] [--steps 300]");
  Deno.exit(2);
}
const baseModel = `${values.base.replace(/\/$/, "")}/lib/models/model.ts`;
try {
  Deno.statSync(baseModel);
} catch {
  console.error(`step_ab: no ${baseModel}: --base must be a checkout of this repository`);
  Deno.exit(2);
}
const buildBase = (await import(`file://${baseModel}`)).buildModel as typeof buildModel;
const baseClock = (await import(`file://${values.base.replace(/\/$/, "")}/lib/kernels/kernel_clock.ts`))
  .kernelClock as typeof kernelClock;

/** One timed step's parts, ms. */
interface Parts {
  readonly step: number;
  readonly forward: number;
  readonly backward: number;
  readonly optimiser: number;
  readonly forwardKernels: number;
  readonly backwardKernels: number;
}

interface Side {
  readonly net: ReturnType<typeof buildModel>;
  readonly vars: tf.Variable[];
  readonly adam: Adam;
  readonly rng: ReturnType<typeof substream>;
  readonly clock: typeof kernelClock;
  readonly times: number[];
  readonly parts: Parts[];
  readonly losses: number[];
}

function sideOf(build: typeof buildModel, clock: typeof kernelClock, config: ReturnType<typeof resolve>): Side {
  const net = build(config, substream(0, "init"));
  const vars = net.params.map((p) => p.variable);
  return {
    net,
    vars,
    adam: new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 }),
    rng: substream(0, "train"),
    clock,
    times: [],
    parts: [],
    losses: [],
  };
}

const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);
const quantile = (xs: readonly number[], p: number): number => sorted(xs)[Math.floor(p * (xs.length - 1))];

await initBackend();
const steps = Number(values.steps), warmup = Number(values.warmup);
for (const entry of values.models.split(",")) {
  const [name, dText] = entry.trim().split(":");
  if (!(MODEL_NAMES as readonly string[]).includes(name)) throw new Error(`unknown model ${name}`);
  const config = resolve({ model: name as ModelName, K: 16, d: Number(dText ?? 8), M: 1, L: 64, tau: 1, seed: 0 });
  const base = sideOf(buildBase, baseClock, config), ours = sideOf(buildModel, kernelClock, config);
  kernelClock.enabled = baseClock.enabled = true;
  for (let i = 0; i < warmup + steps; i++) {
    for (const side of i % 2 ? [base, ours] : [ours, base]) { // alternate which goes first
      const batch = arBatch(side.rng, { K: 16, M: 1, tau: 1 }, 64, 64);
      side.clock.forwardMs = side.clock.backwardMs = 0;
      let t1 = 0;
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const loss = side.net.loss(batch.tokens, batch.labels, 64, 64);
        t1 = performance.now();
        return loss;
      }, side.vars);
      const loss = value.dataSync()[0];
      const t2 = performance.now();
      side.adam.step(side.vars.map((v) => grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      const t3 = performance.now();
      if (i >= warmup) {
        side.times.push(t3 - t0);
        side.parts.push({
          step: t3 - t0,
          forward: t1 - t0,
          backward: t2 - t1,
          optimiser: t3 - t2,
          forwardKernels: side.clock.forwardMs,
          backwardKernels: side.clock.backwardMs,
        });
        side.losses.push(loss);
      }
    }
  }
  const same = base.losses.every((loss, i) => Object.is(loss, ours.losses[i]));
  const diff = ours.times.map((t, i) => t - base.times[i]);
  const med = (s: Side, f: (p: Parts) => number): string => quantile(s.parts.map(f), 0.5).toFixed(2);
  const row = (label: string, s: Side): string =>
    `  | ${label} | ${Math.min(...s.times).toFixed(2)} | ${med(s, (p) => p.step)} | ${med(s, (p) => p.forward)} (${
      med(s, (p) => p.forwardKernels)
    }) | ${med(s, (p) => p.backward)} (${med(s, (p) => p.backwardKernels)}) | ${med(s, (p) => p.optimiser)} | ${
      med(s, (p) => p.step - p.forwardKernels - p.backwardKernels)
    } |`;
  console.log(`${entry}: ${steps} steps each after ${warmup}, alternating; losses identical: ${same}`);
  console.log("  | side | step min | step median | forward (kernels) | backward (kernels) | optimiser | around |");
  console.log(row("base", base));
  console.log(row("this checkout", ours));
  console.log(
    `  this - base, paired per step: median ${quantile(diff, 0.5).toFixed(2)} ms (quartiles ${
      quantile(diff, 0.25).toFixed(2)
    }, ${quantile(diff, 0.75).toFixed(2)})`,
  );
  kernelClock.enabled = baseClock.enabled = false;
  base.net.dispose();
  ours.net.dispose();
}
