import assert from "node:assert/strict";
import { join } from "node:path";
import { migrateRun, migrateTree } from "../lib/runs/migrate.ts";
import { checkRunResult, type RunResult } from "../lib/runs/results.ts";
import { readResultsFile } from "../lib/runs/results_file.ts";
import { runKey } from "../lib/runs/run_key.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

/** A fixture run as a schema-2 file held it: no verdict, base cap, samples, extendUpTo or headlineSamples. */
function schema2(r: RunResult): Record<string, unknown> {
  const { verdict: _v, baseSteps: _b, config, accuracyByLength, ...rest } = r;
  const { extendUpTo: _e, headlineSamples: _h, ...settings } = config;
  return {
    ...rest,
    schema: 2,
    revision: 1,
    config: settings,
    accuracyByLength: accuracyByLength.map(({ length, accuracy }) => ({ length, accuracy })),
  };
}

Deno.test("a schema-2 run migrates to schema 3 as a run without extension, scored on evalSamples everywhere", async () => {
  const capped = fixtureResults("p1").runs.find((r) => r.status === "cap")!;
  const run = await migrateRun(schema2(capped), "run");
  checkRunResult(run);
  assert.equal(run.schema, 3);
  assert.equal(run.revision, 1, "the revision it was trained under is kept");
  assert.equal(run.config.extendUpTo, 1);
  assert.equal(run.config.headlineSamples, run.config.evalSamples);
  assert.equal(run.baseSteps, run.config.steps);
  assert.equal(run.verdict, "plateaued");
  assert.ok(run.accuracyByLength.every((a) => a.samples === run.config.evalSamples));
  assert.equal(run.key, await runKey(run.config, 1));
  const converged = await migrateRun(schema2(fixtureResults("p1").runs[0]), "run");
  assert.equal(converged.verdict, "converged");
});

Deno.test("a schema-2 run whose last checks still rose migrates with the verdict still improving", async () => {
  const capped = fixtureResults("p1").runs.find((r) => r.status === "cap")!;
  const rising = { ...capped, history: capped.history.map((h, i) => ({ ...h, accuracy: i / capped.history.length })) };
  assert.equal((await migrateRun(schema2(rising), "run")).verdict, "still improving");
});

Deno.test("an old results.json is read as the current schema in memory and migrated on disk by migrateTree", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const results = fixtureResults("p2");
    const old = { ...results, schema: 2, runs: results.runs.map(schema2) };
    const path = join(dir, "p2", "results.json");
    await Deno.mkdir(join(dir, "p2"));
    await Deno.writeTextFile(path, JSON.stringify(old));
    const state = await readResultsFile(join(dir, "p2"));
    assert.equal(state.kind, "present");
    assert.equal(JSON.parse(await Deno.readTextFile(path)).schema, 2, "reading leaves the file alone");
    const report = await migrateTree(dir);
    assert.equal(report.resultsFiles, 1);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).schema, 3);
    assert.equal((await migrateTree(dir)).resultsFiles, 0, "idempotent");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
