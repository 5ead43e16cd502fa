import assert from "node:assert/strict";
import { runTime, runTimeText } from "../lib/store/run_time.ts";
import type { RunResult } from "../lib/store/results.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";

function timed(
  seed: number,
  trainSeconds: number,
  evalSeconds: number,
  stepsRun: number,
  medianStepMs: number,
): RunResult {
  const run = fixtureRun({ model: "mamba", d: 8, M: 4, tau: 1, seed });
  return { ...run, stepsRun, timing: { ...run.timing, trainSeconds, evalSeconds, medianStepMs } };
}

Deno.test("run time sums each run's own time and its steps x median step, counting a shared key once", () => {
  const a = timed(0, 100, 5, 1000, 80); // paused for a while: 100 s of training for 80 s of steps
  const b = timed(1, 40, 2, 500, 70);
  const t = runTime([a, b, { ...a, variant: "reused by another problem" }]);
  assert.equal(t.runs, 2);
  assert.equal(t.ownSeconds, 100 + 5 + 40 + 2);
  assert.ok(Math.abs(t.stepSeconds - (80 + 5 + 35 + 2)) < 1e-9);
  assert.equal(
    runTimeText(t, 2),
    "2 distinct runs: their own time 2.5 min (train + eval; 1.2 at 2 jobs), steps x median step + eval 2.0 min (1.0 at 2 jobs)",
  );
});

Deno.test("run time of no runs is zero", () => {
  assert.deepEqual(runTime([]), { runs: 0, ownSeconds: 0, stepSeconds: 0 });
});
