/**
 * Probes of real models: the traced forward reproduces every model's logits, probing leaks no tensor, and the
 * probes of a tiny trained checkpoint are deterministic, inside [0, 1] and written beside the checkpoint.
 */
import assert from "node:assert/strict";
import { withTempDir } from "./fixtures/temp_dir.ts";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { type ExperimentConfig, MODEL_NAMES, resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { runExperiment } from "../lib/store/experiment.ts";
import { loadModel } from "../lib/training/checkpoint.ts";
import { traceForward } from "../lib/probes/probe_forward.ts";
import { probeModel, type ProbeOptions, type ProbeResult } from "../lib/probes/probe_run.ts";
import { probeDir, probeJson, readProbe } from "../lib/probes/probe_file.ts";

await initBackend();

/** Few sequences per probe, so a probe of a tiny model takes well under a second. */
const SMALL: ProbeOptions = { accuracySamples: 4, distances: 5, traceSamples: 10, window: 3, shortLengths: 4 };

function tiny(model: ExperimentConfig["model"], steps = 30): ExperimentConfig {
  return {
    model,
    K: 16,
    d: 8,
    M: 2,
    L: 12,
    tau: 1,
    seed: 0,
    steps,
    evalSamples: 8,
    checkEvery: 10,
    testBatch: 32,
    batch: 16,
  };
}

for (const model of MODEL_NAMES) {
  Deno.test(`${model}: the traced forward gives the model's own logits and leaks no tensor`, () => {
    const config = resolve(tiny(model));
    const m = buildModel(config, substream(0, "init"));
    const batch = arBatch(substream(0, "probe:test:trace"), config, 3, 20);
    const before = tf.memory().numTensors;
    const trace = traceForward(m, batch.tokens, 3, 20);
    assert.equal(tf.memory().numTensors, before);
    const want = tf.tidy(() => m.logits(batch.tokens, 3, 20).dataSync() as Float32Array);
    let worst = 0;
    for (let k = 0; k < want.length; k++) worst = Math.max(worst, Math.abs(trace.logits[k] - want[k]));
    assert.ok(worst < 1e-4, `max logit difference ${worst}`);
    assert.deepEqual(trace.layers.map((t) => t.kind), config.mixers);
    m.dispose();
  });
}

/** Every number in a probe result that is an accuracy, weight, score or retention. */
function unitValues(p: ProbeResult): number[] {
  const acc = p.accuracy;
  const grid = [
    ...acc.byDistance.flatMap((c) => c.accuracy),
    ...acc.byQuery.flatMap((c) => c.accuracy),
    ...acc.shortLengths.accuracy.flat(),
  ];
  const attention = p.attention.flatMap((a) =>
    a.byLength.flatMap((s) => [
      ...s.previousToken,
      ...s.lagTau,
      ...s.induction,
      ...s.aligned.flat(),
      ...s.finalRow.flat(),
      ...s.lagByPosition.flat(),
    ])
  );
  const mamba = p.mamba.flatMap((m) => m.byLength.flatMap((s) => [...s.retentionMax, ...s.retentionMedian]));
  return [...grid, ...attention, ...mamba].filter((v): v is number => v !== null);
}

Deno.test("probes of a tiny trained checkpoint are deterministic, within [0, 1], and leak no tensor", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const model of ["hybrid", "tf-rope"] as const) {
      const path = join(dir, `${model}.safetensors`);
      await runExperiment(tiny(model), { checkpoint: path });
      const m = await loadModel(path);
      const before = tf.memory().numTensors;
      const first = probeModel(m, "k", SMALL);
      const second = probeModel(m, "k", SMALL);
      assert.equal(tf.memory().numTensors, before);
      m.dispose();
      assert.equal(probeJson(first), probeJson(second));
      const values = unitValues(first);
      assert.ok(values.length > 100);
      assert.ok(values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1 + 1e-6), `${model}: a value outside [0, 1]`);
      assert.deepEqual(first.lengths, [12, 24, 36]);
      assert.deepEqual(first.accuracy.byQuery[0].at, [0, 1]);
      assert.equal(first.attention.length, model === "hybrid" ? 1 : 2);
      assert.equal(first.mamba.length, model === "hybrid" ? 1 : 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("probeDir writes a probe file beside each checkpoint, skips runs without one, and reuses files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "runs"));
    const r = await runExperiment(tiny("mamba"), { checkpoint: join(dir, "runs", "placeholder.safetensors") });
    await Deno.rename(join(dir, "runs", "placeholder.safetensors"), join(dir, "runs", `${r.key}.safetensors`));
    const other = { ...r, key: "0000000000000000" };
    const log: string[] = [];
    const counts = await probeDir(dir, [r, other], { options: SMALL, log: (l) => log.push(l) });
    assert.deepEqual(counts, { probed: 1, present: 0, noCheckpoint: 1, damaged: 0 });
    assert.equal(log.length, 1);
    const p = await readProbe(dir, r.key);
    assert.ok(p !== null && p.key === r.key && p.mamba.length === 2);
    const again = await probeDir(dir, [r], { options: SMALL, log: () => {} });
    assert.deepEqual(again, { probed: 0, present: 1, noCheckpoint: 0, damaged: 0 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint with damaged data, or copied from another run, is named and skipped; the others are probed", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "runs"));
    const runs = [];
    for (const seed of [3, 4, 5]) {
      const r = await runExperiment({ ...tiny("mamba"), seed }, {
        checkpoint: join(dir, "runs", `s${seed}.safetensors`),
      });
      await Deno.rename(join(dir, "runs", `s${seed}.safetensors`), join(dir, "runs", `${r.key}.safetensors`));
      runs.push(r);
    }
    const [damaged, copied, fine] = runs;
    const bytes = await Deno.readFile(join(dir, "runs", `${damaged.key}.safetensors`));
    bytes[bytes.length - 5] ^= 0xff; // data, not header: the file still decodes
    await Deno.writeFile(join(dir, "runs", `${damaged.key}.safetensors`), bytes);
    await Deno.copyFile(join(dir, "runs", `${fine.key}.safetensors`), join(dir, "runs", `${copied.key}.safetensors`));
    const log: string[] = [];
    const counts = await probeDir(dir, runs, { options: SMALL, log: (l) => log.push(l) });
    assert.deepEqual(counts, { probed: 1, present: 0, noCheckpoint: 0, damaged: 2 });
    assert.match(
      log[0],
      new RegExp(`skipped: .*${damaged.key}\\.safetensors: the weights do not match their content hash`),
    );
    assert.match(log[1], new RegExp(`skipped: .*${copied.key}\\.safetensors: it is the checkpoint of run ${fine.key}`));
    assert.equal(await readProbe(dir, damaged.key), null);
    assert.ok((await readProbe(dir, fine.key)) !== null);
  });
});
