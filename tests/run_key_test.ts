import assert from "node:assert/strict";
import { type ExperimentConfig, KEYED_FIELDS, resolve, type RunSettings, settingsOf } from "../lib/training/config.ts";
import { TRAINING_REVISION } from "../lib/training/revision.ts";
import { runKey } from "../lib/store/run_key.ts";

const BASE: ExperimentConfig = { model: "tf-rope", K: 16, d: 8, M: 1, L: 64, tau: 1, seed: 0, steps: 20000 };

/** A valid value different from the default-filled one, for each keyed field. */
const OTHER: { [F in keyof RunSettings]: RunSettings[F] } = {
  model: "tf-learned",
  K: 32,
  d: 16,
  M: 2,
  L: 32,
  tau: 2,
  seed: 1,
  batch: 32,
  steps: 100,
  lr: 3e-3,
  warmup: 10,
  clip: 0.5,
  heads: 4,
  evalSamples: 16,
  checkEvery: 10,
  testBatch: 64,
  patience: 2,
  target: 0.9,
  kernels: "reference",
  farLengths: [5],
  headlineSamples: 512,
  init: "scaled-normal",
};

Deno.test("a run's key is the same for a config, its defaults written out, and its resolved form", async () => {
  const key = await runKey(BASE);
  assert.equal(await runKey(resolve(BASE)), key, "derived fields are not hashed");
  assert.equal(await runKey(settingsOf(resolve(BASE))), key);
  assert.equal(await runKey({ ...BASE, lr: 1e-2, heads: 2, batch: 64, kernels: "fast", evalSamples: 256 }), key);
  assert.deepEqual(
    settingsOf(resolve(settingsOf(resolve(BASE)))),
    settingsOf(resolve(BASE)),
    "settings are a fixpoint",
  );
});

Deno.test("a run's key changes when any setting changes, and when the training revision is bumped", async () => {
  const key = await runKey(BASE);
  const seen = new Set([key]);
  for (const field of KEYED_FIELDS) {
    const changed = { ...BASE, [field]: OTHER[field] } as ExperimentConfig;
    assert.notEqual(await runKey(changed), key, `changing ${field} must re-key the run`);
    seen.add(await runKey(changed));
  }
  assert.equal(seen.size, KEYED_FIELDS.length + 1, "every change gives its own key");
  assert.notEqual(await runKey(BASE, TRAINING_REVISION + 1), key);
});

Deno.test("revision-3 keys stay fixed (a refactor that re-keys runs fails here)", async () => {
  assert.equal(TRAINING_REVISION, 3);
  assert.equal(await runKey(BASE), "90db1c06999bdce0");
  assert.equal(await runKey({ ...BASE, model: "mamba", steps: 6000 }), "8faee6230ffd7e99");
});
