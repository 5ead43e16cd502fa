import assert from "node:assert/strict";
import { initBackend } from "../lib/platform/backend.ts";
import { type ExperimentConfig, resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { convergenceStep, train, type TrainOutcome } from "../lib/training/train.ts";
import { stillImproving } from "../lib/training/plateau.ts";
import { convergedPath, runExperiment } from "../lib/store/experiment.ts";
import { loadCheckpoint } from "../lib/training/checkpoint.ts";
import { join } from "node:path";
import { withTempDir } from "./fixtures/temp_dir.ts";
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

Deno.test("a run that reaches the target keeps training to its budget and records where it converged", async () => {
  // target 0: every check passes, so the run converges at its third check (patience 3) and must still run all 40.
  const outcome = await trainTiny({ ...TINY, steps: 40, checkEvery: 5, target: 0 });
  assert.equal(outcome.stepsRun, 40);
  assert.equal(outcome.status, "converged");
  assert.equal(outcome.convergedStep, 5);
  assert.deepEqual(outcome.history.map((p) => p.step), [5, 10, 15, 20, 25, 30, 35, 40]);
});

Deno.test("the convergence step is the first of the first patience consecutive checks at the target", () => {
  const h = (accs: number[]) => accs.map((accuracy, i) => ({ step: 10 * (i + 1), loss: 1, accuracy }));
  assert.equal(convergenceStep(h([0.5, 0.99, 0.99, 0.5, 0.99, 1, 0.995, 0.2]), 0.99, 3), 50);
  assert.equal(convergenceStep(h([0.99, 0.99, 0.5, 0.99, 0.99]), 0.99, 3), null);
  assert.equal(convergenceStep(h([0.99]), 0.99, 1), 10);
});

Deno.test("a run that does not converge stops at its budget, reporting whether it was still improving there", async () => {
  const outcome = await trainTiny({ ...TINY });
  assert.equal(outcome.stepsRun, 20);
  assert.equal(outcome.verdict, stillImproving(outcome.history) ? "still improving" : "plateaued");
});

Deno.test("a run whose accuracy does not move is reported as plateaued", async () => {
  const outcome = await trainTiny({ ...TINY, lr: 1e-12 });
  assert.equal(outcome.stepsRun, 20);
  assert.equal(outcome.verdict, "plateaued");
});

Deno.test("the run result records the budget, the steps run and the verdict", async () => {
  const r = await runExperiment({ ...TINY });
  assert.equal(r.baseSteps, 20);
  assert.equal(r.stepsRun, 20);
  assert.ok(["plateaued", "still improving", "converged"].includes(r.verdict));
  assert.equal(r.status, r.verdict === "converged" ? "converged" : "cap");
});

Deno.test("L, 2L and 3L are scored on headlineSamples sequences, the far lengths and every other on evalSamples", async () => {
  const r = await runExperiment({ ...TINY, steps: 5, farLengths: [4, 8] });
  for (const p of r.accuracyByLength) {
    assert.equal(p.samples, [16, 32, 48].includes(p.length) ? 16 : 8, `length ${p.length}`);
    assert.ok(Number.isInteger(p.accuracy * p.samples), `length ${p.length}: a count of correct sequences`);
  }
  assert.deepEqual(r.accuracyByLength.slice(-3).map((p) => p.length), [48, 64, 128]);
});

Deno.test("the weights at convergence are kept beside the checkpoint: those of the run stopped there, bit for bit", async () => {
  await withTempDir(async (dir) => {
    // target 0: the checks at 5, 10, 15 pass, so an early-stopping run would have stopped at step 15.
    const on = join(dir, "on.safetensors"), stopped = join(dir, "stopped.safetensors");
    await runExperiment({ ...TINY, steps: 40, checkEvery: 5, target: 0 }, { checkpoint: on });
    await runExperiment({ ...TINY, steps: 15, checkEvery: 5, target: 0 }, { checkpoint: stopped });
    const at = await loadCheckpoint(convergedPath(on));
    const ref = await loadCheckpoint(stopped);
    assert.deepEqual(at.arrays.map((a) => a.data), ref.arrays.map((a) => a.data));
    const never = join(dir, "never.safetensors");
    await runExperiment({ ...TINY, lr: 1e-12 }, { checkpoint: never });
    assert.equal(await Deno.stat(convergedPath(never)).then(() => true, () => false), false, "no convergence, no file");
  });
});
