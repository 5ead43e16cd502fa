import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { resolve } from "../lib/training/config.ts";
import {
  defaultRecipe,
  isModelName,
  MODEL_NAMES,
  MODEL_TABLE,
  type ModelSpec,
  modelSpec,
  recipeAt,
} from "../lib/models/model_table.ts";
import { MIXER_KINDS, type MixerKind, MIXERS } from "../lib/models/mixers.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { crossEntropy } from "../lib/training/train.ts";

await initBackend();

Deno.test("every model row names only mixer kinds that have a factory in the mixer record", () => {
  for (const model of MODEL_NAMES) {
    const { mixers } = modelSpec(model);
    assert.ok(mixers.length > 0, model);
    for (const kind of mixers) assert.ok(Object.hasOwn(MIXERS, kind), `${model}: ${kind}`);
  }
});

Deno.test("every mixer kind has a factory with its own parameter-name scope", () => {
  assert.deepEqual([...MIXER_KINDS].sort(), Object.keys(MIXERS).sort());
  const scopes = MIXER_KINDS.map((k) => MIXERS[k].scope);
  assert.equal(new Set(scopes).size, scopes.length);
  for (const k of MIXER_KINDS) assert.equal(typeof MIXERS[k].build, "function");
});

Deno.test("every model has its own #rrggbb colour and a label", () => {
  const colors = MODEL_NAMES.map((m) => modelSpec(m).color);
  for (const c of colors) assert.match(c, /^#[0-9a-f]{6}$/);
  assert.equal(new Set(colors).size, colors.length);
  for (const m of MODEL_NAMES) assert.ok(modelSpec(m).label.length > 0);
});

Deno.test("MODEL_NAMES lists the table's rows in order, and only they are model names", () => {
  assert.deepEqual(MODEL_NAMES, Object.keys(MODEL_TABLE));
  for (const m of MODEL_NAMES) assert.ok(isModelName(m));
  for (const name of ["lstm", "toString", "constructor", ""]) assert.ok(!isModelName(name), name);
  assert.throws(() => modelSpec("lstm" as never), /unknown model lstm/);
});

Deno.test("a recipe's delayed learning rate applies at tau > 1 only; without one, lr applies at every tau", () => {
  const spec: ModelSpec = {
    mixers: ["attention"],
    pe: "none",
    recipe: { lr: 1e-3, lrDelayed: 5e-3, heads: 2, warmup: 10, clip: 0.5 },
    color: "#123456",
    label: "test",
  };
  assert.deepEqual(recipeAt(spec, 1), { lr: 1e-3, heads: 2, warmup: 10, clip: 0.5 });
  assert.deepEqual(recipeAt(spec, 2), { lr: 5e-3, heads: 2, warmup: 10, clip: 0.5 });
  assert.equal(recipeAt({ ...spec, recipe: { lr: 1e-3, heads: 2, warmup: 10, clip: 0.5 } }, 7).lr, 1e-3);
  assert.deepEqual(defaultRecipe("mamba", 1), { lr: 2e-3, heads: 0, warmup: 100, clip: 1 });
  assert.deepEqual(defaultRecipe("hybrid", 5), { lr: 3e-3, heads: 2, warmup: 100, clip: 1 });
});

Deno.test("a new row from existing mixers builds, trains and stays causal through the same code path", () => {
  // A throwaway row (attention first, then Mamba, RoPE): what adding it to MODEL_TABLE would give resolve().
  const row: ModelSpec = {
    mixers: ["attention", "mamba", "attention"],
    pe: "rope",
    recipe: { lr: 5e-3, heads: 2, warmup: 2, clip: 1 },
    color: "#000000",
    label: "attention, Mamba, attention",
  };
  const base = resolve({ model: "hybrid", K: 16, d: 8, M: 1, L: 8, tau: 1, seed: 0, heads: row.recipe.heads });
  const config = { ...base, mixers: row.mixers, pe: row.pe, lr: row.recipe.lr };
  const net = buildModel(config, substream(0, "init"));
  try {
    const names = net.params.map((p) => p.name);
    assert.ok(names.includes("layer0.attn.wq") && names.includes("layer1.mamba.A_log"));
    assert.ok(names.includes("layer2.attn.wo") && !names.includes("pos"));
    const b = 2, l = 10;
    const batch = arBatch(substream(1, "t"), { K: 16, M: 1, tau: 1 }, b, l);
    const changed = batch.tokens.slice();
    for (let r = 0; r < b; r++) changed[r * l + 6] = (changed[r * l + 6] + 5) % 16;
    const [h1, h2] = tf.tidy(() => [net.hidden(batch.tokens, b, l).dataSync(), net.hidden(changed, b, l).dataSync()]);
    for (let r = 0; r < b; r++) {
      for (let i = 0; i < 6 * config.d; i++) assert.equal(h1[r * l * config.d + i], h2[r * l * config.d + i]);
    }
    const vars = net.params.map((p) => p.variable);
    const { value, grads } = tf.variableGrads(() => crossEntropy(net.logits(batch.tokens, b, l), batch.labels), vars);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    assert.ok(vars.every((v) => grads[v.name] !== undefined));
    tf.dispose([value, ...Object.values(grads)]);
  } finally {
    net.dispose();
  }
});

Deno.test("a mixer kind missing from the mixer record is an error, never built as another kind", () => {
  const base = resolve({ model: "mamba", K: 16, d: 8, M: 1, L: 8, tau: 1, seed: 0 });
  const config = { ...base, mixers: ["lstm" as MixerKind] };
  assert.throws(() => buildModel(config, substream(0, "init")), /unknown mixer kind lstm/);
});
