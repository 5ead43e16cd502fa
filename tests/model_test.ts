import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { crossEntropy } from "../lib/training/train.ts";
import { layersFor } from "../lib/models/layers.ts";

await initBackend();

function smallConfig(model: ModelName, L = 8) {
  return resolve({ model, K: 16, d: 8, M: 1, L, tau: 1, seed: 0 });
}

for (const model of MODEL_NAMES) {
  Deno.test(`${model}: changing a later token never changes an earlier hidden state`, () => {
    const config = smallConfig(model);
    const net = buildModel(config, substream(0, "init"));
    try {
      const b = 2, l = 12;
      const batch = arBatch(substream(1, "t"), { K: 16, M: 1, tau: 1 }, b, l);
      const changed = batch.tokens.slice();
      for (let r = 0; r < b; r++) changed[r * l + 7] = (changed[r * l + 7] + 3) % 16;
      const [h1, h2] = tf.tidy(() => [
        net.hidden(batch.tokens, b, l).dataSync(),
        net.hidden(changed, b, l).dataSync(),
      ]);
      const d = config.d;
      let before = 0, after = 0;
      for (let r = 0; r < b; r++) {
        for (let t = 0; t < l; t++) {
          for (let k = 0; k < d; k++) {
            const diff = Math.abs(h1[(r * l + t) * d + k] - h2[(r * l + t) * d + k]);
            if (t < 7) before = Math.max(before, diff);
            else after = Math.max(after, diff);
          }
        }
      }
      assert.equal(before, 0, "an earlier state changed");
      assert.ok(after > 1e-4, "the change had no effect at all (test would be vacuous)");
    } finally {
      net.dispose();
    }
  });
}

Deno.test("learned positions beyond the training length L get exactly zero gradient", () => {
  const config = smallConfig("tf-learned");
  const net = buildModel(config, substream(0, "init"));
  try {
    const batch = arBatch(substream(0, "train"), { K: 16, M: 1, tau: 1 }, 16, config.L);
    const pos = net.params.find((p) => p.name === "pos")!.variable;
    assert.deepEqual(pos.shape, [config.maxLen, config.d]);
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(net.logits(batch.tokens, 16, config.L), batch.labels),
      [pos],
    );
    const g = grads[pos.name].dataSync();
    const d = config.d;
    let inside = 0, beyond = 0;
    for (let p = 0; p < config.maxLen; p++) {
      for (let k = 0; k < d; k++) {
        if (p < config.L) inside = Math.max(inside, Math.abs(g[p * d + k]));
        else beyond = Math.max(beyond, Math.abs(g[p * d + k]));
      }
    }
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(beyond, 0);
    assert.ok(inside > 0);
  } finally {
    net.dispose();
  }
});

Deno.test("parameter counts: the fixed embedding is not a parameter; the position table counts its L trained rows", () => {
  const counts = Object.fromEntries(MODEL_NAMES.map((m) => {
    const net = buildModel(smallConfig(m, 64), substream(0, "init"));
    const n = net.paramCount;
    net.dispose();
    return [m, n];
  }));
  assert.equal(counts["tf-learned"] - counts["tf-nope"], 64 * 8);
  assert.equal(counts["tf-rope"], counts["tf-nope"]);
  assert.ok(counts["mamba"] > counts["tf-nope"]);
});

Deno.test("parameter counts at K=16, L=64 are the ones the README lists, at d=8 and d=64", () => {
  const readme: Record<string, [number, number]> = {
    "tf-learned": [1216, 38288],
    "tf-rope": [704, 34192],
    "tf-nope": [704, 34192],
    "mamba": [2784, 66704],
    "hybrid": [1744, 50448],
  };
  for (const [model, expected] of Object.entries(readme) as [ModelName, [number, number]][]) {
    const counts = [8, 64].map((d) => {
      const net = buildModel(resolve({ model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0 }), substream(0, "init"));
      const n = net.paramCount;
      net.dispose();
      return n;
    });
    assert.deepEqual(counts, expected, model);
  }
});

Deno.test("two live models of the same config coexist, and disposing both leaves no tensor behind", () => {
  const config = resolve({ model: "hybrid", K: 16, d: 8, M: 1, L: 8, tau: 1, seed: 0 });
  const before = tf.memory().numTensors;
  const a = buildModel(config, substream(0, "init"));
  const b = buildModel(config, substream(0, "init"));
  try {
    assert.deepEqual(a.params.map((p) => p.name), b.params.map((p) => p.name));
    assert.deepEqual(a.params[0].variable.dataSync(), b.params[0].variable.dataSync());
  } finally {
    a.dispose();
    b.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

for (const [model, d] of [...MODEL_NAMES.map((m) => [m, 8] as const), ["mamba", 64] as const]) {
  Deno.test(`${model} d=${d}: the loss (last mixer at the last position only where it can) equals the readout of the full hidden states bit for bit, with every gradient`, () => {
    const config = resolve({ model, K: 16, d, M: 1, L: 8, tau: 1, seed: 0 });
    const net = buildModel(config, substream(0, "init"));
    try {
      const b = 3, l = 8;
      const batch = arBatch(substream(2, "t"), { K: 16, M: 1, tau: 1 }, b, l);
      const vars = net.params.map((p) => p.variable);
      const get = (name: string): tf.Variable => net.params.find((p) => p.name === name)!.variable;
      const readout = {
        norm: { gain: get("final_norm.gain") as tf.Tensor1D, bias: get("final_norm.bias") as tf.Tensor1D },
        w: get("readout.w") as tf.Tensor2D,
        bias: get("readout.b") as tf.Tensor1D,
      };
      const { readoutLoss } = layersFor(config);
      const bits = (t: tf.Tensor): number[] => [...new Uint32Array(new Float32Array(t.dataSync()).buffer)];
      tf.tidy(() => {
        const viaLoss = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, b, l), vars);
        const viaHidden = tf.variableGrads(
          () => readoutLoss(net.hidden(batch.tokens, b, l), readout, batch.labels),
          vars,
        );
        assert.deepEqual(bits(viaLoss.value), bits(viaHidden.value), "loss");
        for (const v of vars) assert.deepEqual(bits(viaLoss.grads[v.name]), bits(viaHidden.grads[v.name]), v.name);
      });
    } finally {
      net.dispose();
    }
  });
}
