/**
 * Tool (prints numbers; not a test): 15 training steps of each model at several shapes from fixed seeds, printed
 * as every loss's float64 bits in hex and an FNV-1a hash of all final weights' float32 bits. Two commits compute
 * the same numbers bit for bit exactly when their outputs are identical, so a speed-up that must change no
 * result is checked by running this before and after and comparing the text (`diff`).
 *
 *   deno run -A bench/training_digest.ts > after.txt      # default: every model at d=8 (B 64, L 64, its recipe),
 *                                                        # Mamba at d=8, 32, 64 (B 16, L 24) and the Hybrid at d=8 L 24
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { buildModel } from "../lib/models/model.ts";
import { Adam } from "../lib/training/adam.ts";

const DEFAULT_CASES = [
  ...MODEL_NAMES.map((m) => `${m}:8:64:64`),
  "mamba:8:16:24",
  "mamba:32:16:24",
  "mamba:64:16:24",
  "mamba:64:64:64",
  "hybrid:8:16:24",
].join(",");

const { values } = parseArgs({
  args: Deno.args,
  options: { cases: { type: "string", default: DEFAULT_CASES }, steps: { type: "string", default: "15" } },
});

function fnv1a(hash: number, bytes: Uint8Array): number {
  let h = hash;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

function hexOf(x: number): string {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x);
  return v.getBigUint64(0).toString(16).padStart(16, "0");
}

await initBackend();
const steps = Number(values.steps);
for (const entry of values.cases.split(",")) {
  const [model, dText, bText, lText] = entry.split(":");
  const [d, batchSize, L] = [dText, bText, lText].map(Number);
  if (!(MODEL_NAMES as readonly string[]).includes(model)) throw new Error(`unknown model ${model}`);
  const config = resolve({ model: model as ModelName, K: 16, d, M: 1, L, tau: 1, seed: 3, batch: batchSize });
  const net = buildModel(config, substream(3, "init"));
  const vars = net.params.map((p) => p.variable);
  const adam = new Adam(vars, { lr: config.lr, warmup: 5, clip: config.clip });
  const rng = substream(3, "train");
  const losses: string[] = [];
  for (let step = 0; step < steps; step++) {
    const batch = arBatch(rng, { K: 16, M: 1, tau: 1 }, batchSize, L);
    const { value, grads } = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, batchSize, L), vars);
    losses.push(hexOf(value.dataSync()[0]));
    adam.step(vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
  }
  let hash = 0x811c9dc5;
  for (const v of vars) hash = fnv1a(hash, new Uint8Array((v.dataSync() as Float32Array).slice().buffer));
  console.log(`${entry} weights ${hash.toString(16).padStart(8, "0")} losses ${losses.join(" ")}`);
  net.dispose();
}
