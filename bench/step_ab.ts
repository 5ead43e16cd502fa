/**
 * Benchmark (prints numbers; not a test): training steps of this checkout's model code and of another checkout's
 * (`--base`, e.g. a git worktree of main), built in ONE process and trained alternately step by step on the same
 * batches (B=64, L=64, K=16, each model at its recipe). Both see the same machine at every moment, so the paired
 * per-step difference is far steadier than comparing two runs on this shared machine, whose medians swing ~20%
 * from one minute to the next. Also checks that both give the same losses bit for bit (the kernels are separate
 * module instances, tfjs is shared).
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

interface Side {
  readonly net: ReturnType<typeof buildModel>;
  readonly vars: tf.Variable[];
  readonly adam: Adam;
  readonly rng: ReturnType<typeof substream>;
  readonly times: number[];
  readonly losses: number[];
}

function sideOf(build: typeof buildModel, config: ReturnType<typeof resolve>): Side {
  const net = build(config, substream(0, "init"));
  const vars = net.params.map((p) => p.variable);
  return {
    net,
    vars,
    adam: new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 }),
    rng: substream(0, "train"),
    times: [],
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
  const base = sideOf(buildBase, config), ours = sideOf(buildModel, config);
  for (let i = 0; i < warmup + steps; i++) {
    for (const side of i % 2 ? [base, ours] : [ours, base]) { // alternate which goes first
      const batch = arBatch(side.rng, { K: 16, M: 1, tau: 1 }, 64, 64);
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => side.net.loss(batch.tokens, batch.labels, 64, 64), side.vars);
      const loss = value.dataSync()[0];
      side.adam.step(side.vars.map((v) => grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      if (i >= warmup) {
        side.times.push(performance.now() - t0);
        side.losses.push(loss);
      }
    }
  }
  const same = base.losses.every((loss, i) => Object.is(loss, ours.losses[i]));
  const diff = ours.times.map((t, i) => t - base.times[i]);
  const show = (s: Side): string =>
    `min ${Math.min(...s.times).toFixed(2)}, median ${quantile(s.times, 0.5).toFixed(2)} ms`;
  console.log(`${entry}: ${steps} steps each after ${warmup}, alternating; losses identical: ${same}`);
  console.log(`  base step ${show(base)}; this checkout ${show(ours)}`);
  console.log(
    `  this - base, paired per step: median ${quantile(diff, 0.5).toFixed(2)} ms (quartiles ${
      quantile(diff, 0.25).toFixed(2)
    }, ${quantile(diff, 0.75).toFixed(2)})`,
  );
  base.net.dispose();
  ours.net.dispose();
}
