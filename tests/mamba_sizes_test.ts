import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { type ExperimentConfig, resolve, settingsOf } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { runKey } from "../lib/store/run_key.ts";

await initBackend();

const BASE: ExperimentConfig = { model: "mamba", K: 16, d: 8, M: 2, L: 12, tau: 1, seed: 4, batch: 8 };

/** The loss and every parameter's gradient of one batch, with the fast or the reference layers. */
function lossAndGrads(config: ExperimentConfig): { loss: number; grads: Map<string, Float32Array> } {
  const c = resolve(config);
  const net = buildModel(c, substream(c.seed, "init"));
  try {
    const batch = arBatch(substream(c.seed, "train"), c, c.batch, c.L);
    const vars = net.params.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, c.batch, c.L), vars);
    const out = {
      loss: value.dataSync()[0],
      grads: new Map(net.params.map((p) => [p.name, grads[p.variable.name].dataSync() as Float32Array])),
    };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    net.dispose();
  }
}

for (const sizes of [{ stateSize: 8 }, { expand: 4 }, { convWidth: 6 }, { stateSize: 4, expand: 1, convWidth: 2 }]) {
  for (const model of ["mamba", "hybrid"] as const) {
    Deno.test(`${model} ${JSON.stringify(sizes)}: the fast layers give the reference's loss and gradients`, () => {
      const fast = lossAndGrads({ ...BASE, ...sizes, model, kernels: "fast" });
      const ref = lossAndGrads({ ...BASE, ...sizes, model, kernels: "reference" });
      assert.ok(Math.abs(fast.loss - ref.loss) < 1e-5, `loss ${fast.loss} vs ${ref.loss}`);
      for (const [name, g] of ref.grads) {
        const f = fast.grads.get(name)!;
        assert.equal(f.length, g.length, name);
        const scale = Math.max(1e-3, ...g.map(Math.abs));
        const worst = Math.max(...g.map((x, i) => Math.abs(x - f[i])));
        assert.ok(worst / scale < 2e-4, `${name}: off by ${worst} of ${scale}`);
      }
      const c = resolve({ ...BASE, ...sizes, model });
      const w = buildModel(c, substream(0, "init"));
      const shape = (n: string) => w.params.find((p) => p.name === n)!.variable.shape;
      assert.deepEqual(shape("layer0.mamba.A_log"), [c.expand * c.d, c.stateSize]);
      assert.deepEqual(shape("layer0.mamba.conv.w"), [c.expand * c.d, c.convWidth]);
      w.dispose();
    });
  }
}

Deno.test("Mamba's sizes are keyed only when set away from their defaults: earlier runs keep their keys", async () => {
  const key = await runKey(BASE);
  assert.equal(await runKey({ ...BASE, stateSize: 16, expand: 2, convWidth: 4 }), key);
  assert.ok(!("stateSize" in settingsOf(resolve(BASE))), "defaults are not written into run files");
  const keys = new Set([key]);
  for (const sizes of [{ stateSize: 8 }, { expand: 4 }, { convWidth: 6 }]) {
    keys.add(await runKey({ ...BASE, ...sizes }));
  }
  assert.equal(keys.size, 4);
  assert.deepEqual(settingsOf(resolve({ ...BASE, convWidth: 6 })).convWidth, 6);
});
