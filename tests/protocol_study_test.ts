/**
 * The committed protocol study (deno task protocol, reports/protocol) holds what its page claims: each run trained
 * to the step where revision 2 stopped it reproduces the archived revision-2 run bit for bit (history and every
 * length's accuracy up to 3L), so the runs trained on are the same runs, continued.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readResultsFile } from "../lib/store/results_file.ts";
import { upToThreeL } from "../lib/site/series.ts";
import type { RunResult } from "../lib/store/results.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("the protocol study's stopped runs are the archived revision-2 runs, bit for bit", async () => {
  const now = await readResultsFile(join(ROOT, "reports", "protocol"));
  const rev2 = await readResultsFile(join(ROOT, "reports", "archive", "rev2", "p1"));
  if (now.kind !== "present" || rev2.kind !== "present") throw new Error("both results files must be committed");
  const runs: readonly RunResult[] = now.results.runs;
  const old = rev2.results.runs.filter((r) => r.config.model === "mamba");
  assert.equal(old.length, 6);
  for (const o of old) {
    const twin = runs.find((r) =>
      r.config.tau === o.config.tau && r.config.seed === o.config.seed && r.config.steps === o.stepsRun
    );
    assert.ok(twin !== undefined, `tau=${o.config.tau} seed=${o.config.seed}: no run stopped at ${o.stepsRun}`);
    assert.deepEqual(twin.history, o.history);
    assert.deepEqual(upToThreeL(twin), o.accuracyByLength);
  }
});

Deno.test("the protocol study's collapsed runs are Problem 2's own runs at the skipped rate: same keys, reused", async () => {
  const { study } = await import("../studies/protocol/study.ts");
  const { COLLAPSED } = await import("../lib/recipes/chosen.ts");
  const { runKey } = await import("../lib/store/run_key.ts");
  const jobs = study.jobs({ L: 64, seeds: undefined, steps: undefined, lrs: undefined, quick: false, common: {} })
    .filter((j) => j.variant.endsWith(" collapsed"));
  const expected = Object.entries(COLLAPSED).reduce((n, [id, lrs]) => n + lrs.length * (id.includes("d64") ? 3 : 5), 0);
  assert.equal(jobs.length, expected);
  let found = 0;
  for (const j of jobs) {
    const key = await runKey(j.config);
    try {
      const run: RunResult = JSON.parse(await Deno.readTextFile(join(ROOT, "reports", "p2", "runs", `${key}.json`)));
      assert.equal(run.config.lr, j.config.lr);
      found++;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  assert.ok(found >= 4, `the committed Problem 2 runs at the skipped rate have these keys (${found} found)`);
});
