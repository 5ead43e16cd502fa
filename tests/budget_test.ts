import assert from "node:assert/strict";
import { initBackend } from "../lib/platform/backend.ts";
import { type ExperimentConfig, resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { train, type TrainOutcome } from "../lib/training/train.ts";
import { stillImproving } from "../lib/training/plateau.ts";
import { runExperiment } from "../lib/training/experiment.ts";
import { TINY } from "./fixtures/tiny_run.ts";

await initBackend();

async function trainTiny(input: ExperimentConfig): Promise<TrainOutcome> {
  const config = resolve(input);
  const model = buildModel(config, substream(config.seed, "init"));
  try {
    return await train(model, config, { train: substream(config.seed, "train"), test: substream(config.seed, "test") });
  } finally {
    model.dispose();
  }
}

Deno.test("a run still improving at its cap is continued in base-cap chunks, and stops once it plateaus or at 4x", async () => {
  // One check at the 10-step cap is no evidence of a plateau, so the run must be continued at least once.
  const outcome = await trainTiny({ ...TINY, steps: 10, checkEvery: 10 });
  assert.ok(outcome.stepsRun > 10, `the tiny run should have been extended, ran ${outcome.stepsRun}`);
  assert.ok(outcome.stepsRun % 10 === 0 && outcome.stepsRun <= 40, `ran ${outcome.stepsRun}`);
  // Every cap it passed, the rule said "still improving" on the checks up to there; at the cap where it stopped,
  // it said "plateaued" (or the cap was the largest).
  for (let cap = 10; cap < outcome.stepsRun; cap += 10) {
    assert.equal(stillImproving(outcome.history.filter((p) => p.step <= cap)), true, `at ${cap}`);
  }
  const improving = stillImproving(outcome.history);
  if (outcome.stepsRun < 40) assert.equal(improving, false);
  assert.equal(outcome.verdict, improving ? "still improving" : "plateaued");
  assert.equal(outcome.status, "cap");
});

Deno.test("extendUpTo 1 stops every run at its base cap, reporting whether it was still improving there", async () => {
  const outcome = await trainTiny({ ...TINY, extendUpTo: 1 });
  assert.equal(outcome.stepsRun, 20);
  assert.equal(outcome.verdict, stillImproving(outcome.history) ? "still improving" : "plateaued");
});

Deno.test("a run whose accuracy does not move is not extended and is reported as plateaued", async () => {
  const outcome = await trainTiny({ ...TINY, lr: 1e-12 });
  assert.equal(outcome.stepsRun, 20);
  assert.equal(outcome.verdict, "plateaued");
});

Deno.test("the run result records the base cap, the steps actually run and the verdict", async () => {
  const r = await runExperiment({ ...TINY, extendUpTo: 2 });
  assert.equal(r.baseSteps, 20);
  assert.equal(r.config.extendUpTo, 2);
  assert.ok(r.stepsRun === 20 || r.stepsRun === 40, `ran ${r.stepsRun}`);
  assert.ok(["plateaued", "still improving", "converged"].includes(r.verdict));
  assert.equal(r.status, r.verdict === "converged" ? "converged" : "cap");
});

Deno.test("L, 2L and 3L are scored on headlineSamples sequences, every other length on evalSamples", async () => {
  const r = await runExperiment({ ...TINY, steps: 5, extendUpTo: 1 });
  for (const p of r.accuracyByLength) {
    assert.equal(p.samples, [16, 32, 48].includes(p.length) ? 16 : 8, `length ${p.length}`);
    assert.ok(Number.isInteger(p.accuracy * p.samples), `length ${p.length}: a count of correct sequences`);
  }
});
