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
