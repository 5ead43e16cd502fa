import assert from "node:assert/strict";
import { join } from "node:path";
import { type ExperimentConfig, KEYED_FIELDS, resolve, type RunSettings, settingsOf } from "../lib/training/config.ts";
import { TRAINING_REVISION } from "../lib/training/revision.ts";
import { runKey } from "../lib/runs/run_key.ts";
import { migrateRun, migrateTree } from "../lib/runs/migrate.ts";
import { checkRunResult, type RunResult } from "../lib/runs/results.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

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
  heads: 2,
  evalSamples: 16,
  checkEvery: 10,
  testBatch: 64,
  patience: 2,
  target: 0.9,
  kernels: "reference",
  extendUpTo: 2,
  headlineSamples: 512,
  init: "scaled-normal",
};

Deno.test("a run's key is the same for a config, its defaults written out, and its resolved form", async () => {
  const key = await runKey(BASE);
  assert.equal(await runKey(resolve(BASE)), key, "derived fields are not hashed");
  assert.equal(await runKey(settingsOf(resolve(BASE))), key);
  assert.equal(await runKey({ ...BASE, lr: 1e-2, heads: 4, batch: 64, kernels: "fast", evalSamples: 256 }), key);
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

Deno.test("the committed Problem 1 runs keep their keys (a refactor that re-keys them fails here)", async () => {
  // reports/archive/rev1/p1/runs, trained at revision 1 without extension and with 256 sequences at every length: the tau=1 RoPE
  // and Mamba runs of the default `deno task p1` of 2026-11-30, from the scaled-normal weights.
  const committed = { ...BASE, extendUpTo: 1, headlineSamples: 256, init: "scaled-normal" } as const;
  assert.equal(await runKey(committed, 1), "a41f3ff430ea953d");
  assert.equal(await runKey({ ...committed, model: "mamba", steps: 6000 }, 1), "fd57f9b6aa68ff23");
});

/**
 * A schema-1 run as committed before run keys were stable: resolved config with derived values, no revision, no
 * extension, headline or init settings (those runs stopped at their cap, used evalSamples at every length and
 * started from the scaled-normal weights).
 */
function schemaOne(run: RunResult): Record<string, unknown> {
  const { revision: _r, config, verdict: _v, baseSteps: _b, ...rest } = run;
  const { kernels, extendUpTo: _e, headlineSamples: _h, init: _i, ...resolved } = resolve(config);
  return {
    ...rest,
    schema: 1,
    key: "0000000000000000",
    accuracyByLength: run.accuracyByLength.map(({ length, accuracy }) => ({ length, accuracy })),
    config: kernels === "fast" ? resolved : { ...resolved, kernels },
  };
}

/** The settings a schema-1 run migrates to, and the key they give at revision 1. */
function migratedSettings(run: RunResult): RunSettings {
  return { ...run.config, extendUpTo: 1, headlineSamples: run.config.evalSamples, init: "scaled-normal" };
}

Deno.test("migrating a schema-1 run gives the key of its stored config, without touching its numbers", async () => {
  const run = fixtureResults("p1").runs[0];
  const migrated = await migrateRun(schemaOne(run), "fixture");
  checkRunResult(migrated);
  assert.equal(migrated.key, await runKey(migratedSettings(run), 1));
  assert.equal(migrated.revision, 1);
  assert.deepEqual(migrated.config, migratedSettings(run));
  assert.deepEqual(migrated.accuracyByLength.map((a) => a.accuracy), run.accuracyByLength.map((a) => a.accuracy));
  assert.deepEqual(migrated.history, run.history);
  await assert.rejects(
    migrateRun({ ...schemaOne(run), config: { ...resolve(run.config), maxLen: 7 } }, "bad"),
    /bad: stored maxLen 7 differs from today's/,
  );
});

Deno.test("deno task migrate renames run files to their new keys, rewrites results.json, and is idempotent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "migrate_" });
  try {
    const results = fixtureResults("p2");
    await Deno.mkdir(join(dir, "p2", "runs"), { recursive: true });
    const old = results.runs.map(schemaOne);
    for (const [i, r] of old.entries()) {
      await Deno.writeTextFile(join(dir, "p2", "runs", `old${i}.json`), JSON.stringify(r));
    }
    await Deno.writeTextFile(join(dir, "p2", "results.json"), JSON.stringify({ ...results, schema: 1, runs: old }));
    const first = await migrateTree(dir);
    assert.equal(first.runFiles, results.runs.length);
    assert.equal(first.resultsFiles, 1);
    const names = [...Deno.readDirSync(join(dir, "p2", "runs"))].map((e) => e.name).sort();
    const keys = await Promise.all(results.runs.map((r) => runKey(migratedSettings(r), 1)));
    assert.deepEqual(names, keys.map((k) => `${k}.json`).sort());
    const rewritten = JSON.parse(await Deno.readTextFile(join(dir, "p2", "results.json")));
    assert.deepEqual(rewritten.runs.map((r: RunResult) => r.key), keys);
    const second = await migrateTree(dir);
    assert.deepEqual(second, { runFiles: 0, resultsFiles: 0, looseFiles: 0, unchanged: results.runs.length + 1 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
