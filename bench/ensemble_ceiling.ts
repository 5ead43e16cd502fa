/**
 * Benchmark (prints numbers; not a test): the most an ensemble could gain (docs/ensemble.md). An ensemble of S
 * seeds does each member's arithmetic exactly as its single run does (bit for bit), so its step can at best cost
 * what one model's step costs on a batch of S*b sequences, with the tf dispatch around the kernels paid once.
 * Times one model's training step at batch b and at S*b, alternating step by step in one process, with the fused
 * kernels' share (lib/kernels/kernel_clock.ts); the ceiling on the speed-up is S step(b) / step(S b).
 *
 *   deno run -A bench/ensemble_ceiling.ts                        # every model at d=8, Mamba also at d=64, S=5
 *   deno run -A bench/ensemble_ceiling.ts --models tf-rope:8 --seeds 5 --steps 100
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName, resolve, type RunModel } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { buildModel } from "../lib/models/model.ts";
import { Adam } from "../lib/training/adam.ts";
import { kernelClock } from "../lib/kernels/kernel_clock.ts";
import { median } from "../lib/stats/median.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    models: { type: "string", default: [...MODEL_NAMES.map((m) => `${m}:8`), "mamba:64"].join(",") },
    seeds: { type: "string", default: "5" },
    steps: { type: "string", default: "60" },
    warmup: { type: "string", default: "20" },
  },
});

/** A model training at batch `b`: one timed step returns [step ms, kernel ms]. */
function trainer(model: ModelName, d: number, b: number): { step: () => [number, number]; net: RunModel } {
  const config = resolve({ model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0 });
  const net = buildModel(config, substream(0, "init"));
  const vars = net.params.map((p) => p.variable);
  const adam = new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 });
  const rng = substream(0, "train");
  const step = (): [number, number] => {
    const batch = arBatch(rng, { K: 16, M: 1, tau: 1 }, b, 64);
    kernelClock.forwardMs = kernelClock.backwardMs = 0;
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, b, 64), vars);
    value.dataSync();
    adam.step(vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
    return [performance.now() - t0, kernelClock.forwardMs + kernelClock.backwardMs];
  };
  return { step, net };
}

await initBackend();
const S = Number(values.seeds), warmup = Number(values.warmup);
console.log(`B=64 vs B=${64 * S}, L=64, K=16; medians, ms (the ${64 * S}-sequence step divided by ${S})`);
console.log("");
console.log("| model | d | step b=64 (kernels) | step / S at b=64 S (kernels / S) | ceiling on the speed-up |");
console.log("| --- | --- | --- | --- | --- |");
for (const entry of values.models.split(",")) {
  const [name, dText] = entry.trim().split(":");
  const d = Number(dText ?? 8);
  const steps = d >= 64 ? Math.max(4, Math.round(Number(values.steps) / 4)) : Number(values.steps);
  const one = trainer(name as ModelName, d, 64), many = trainer(name as ModelName, d, 64 * S);
  const t: Record<"one" | "oneK" | "many" | "manyK", number[]> = { one: [], oneK: [], many: [], manyK: [] };
  kernelClock.enabled = true;
  for (let i = 0; i < warmup + steps; i++) {
    const [a, ak] = one.step();
    const [m, mk] = many.step();
    if (i < warmup) continue;
    t.one.push(a);
    t.oneK.push(ak);
    t.many.push(m / S);
    t.manyK.push(mk / S);
  }
  kernelClock.enabled = false;
  one.net.dispose();
  many.net.dispose();
  const f = (xs: number[]) => median(xs).toFixed(2);
  console.log(
    `| ${name} | ${d} | ${f(t.one)} (${f(t.oneK)}) | ${f(t.many)} (${f(t.manyK)}) | ${
      (median(t.one) / median(t.many)).toFixed(2)
    }x |`,
  );
}
