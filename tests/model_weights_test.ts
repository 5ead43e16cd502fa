/**
 * lib/models/model_weights.ts is the one mapping from a model's flat named weights to its layers: it names every
 * parameter the model creates, in creation order and with its shape (for every model and for non-default Mamba
 * sizes), `modelTensors` hands back the model's own variables by layer, and a missing or misshapen one is named.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/platform/backend.ts";
import { type ExperimentConfig, MODEL_NAMES, resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { modelTensors, modelWeights } from "../lib/models/model_weights.ts";
import { substream } from "../lib/task/random.ts";

await initBackend();

const BASE: ExperimentConfig = { model: "mamba", K: 16, d: 8, M: 1, L: 12, tau: 1, seed: 0 };

const CASES: ExperimentConfig[] = [
  ...MODEL_NAMES.map((model) => ({ ...BASE, model })),
  { ...BASE, model: "hybrid", d: 64, stateSize: 4, expand: 1, convWidth: 2 },
  { ...BASE, model: "mamba", d: 20, stateSize: 8, expand: 4, convWidth: 6 },
];

for (const config of CASES) {
  const c = resolve(config);
  Deno.test(`${c.model} d=${c.d} n=${c.mambaState} e=${c.mambaInner}: the mapping names every parameter, in order`, () => {
    const model = buildModel(c, substream(0, "init"));
    const listed: [string, number[]][] = [];
    modelWeights(c, (name, shape) => listed.push([name, shape]));
    assert.deepEqual(listed, model.params.map((p) => [p.name, p.variable.shape]));
    const w = modelTensors(c, model.params);
    const byName = new Map(model.params.map((p) => [p.name, p.variable]));
    assert.equal(w.readout.w, byName.get("readout.w"));
    assert.equal(w.pos, c.pe === "learned" ? byName.get("pos") : undefined);
    w.layers.forEach((layer, i) => {
      assert.equal(layer.kind, c.mixers[i]);
      assert.equal(layer.norm.gain, byName.get(`layer${i}.norm.gain`));
      if (layer.kind === "mamba") {
        assert.equal(layer.mixer.aLog, byName.get(`layer${i}.mamba.A_log`));
        assert.equal(layer.mixer.inX, byName.get(`layer${i}.mamba.in_proj.x`));
      } else assert.equal(layer.mixer.wq, byName.get(`layer${i}.attn.wq`));
    });
    model.dispose();
  });
}

Deno.test("modelTensors names a parameter that is missing or has another shape", () => {
  const c = resolve({ ...BASE, model: "hybrid" });
  const model = buildModel(c, substream(0, "init"));
  assert.throws(
    () => modelTensors(c, model.params.filter((p) => p.name !== "layer0.mamba.dt_proj.b")),
    /the hybrid model has no parameter "layer0\.mamba\.dt_proj\.b"/,
  );
  const other = resolve({ ...BASE, model: "hybrid", stateSize: 8 });
  assert.throws(() => modelTensors(other, model.params), /"layer0\.mamba\.x_proj" is \[16,33\], expected \[16,17\]/);
  model.dispose();
});
