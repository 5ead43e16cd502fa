import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/platform/backend.ts";
import type { ExperimentConfig, ModelName } from "../lib/training/config.ts";
import { restoreStream, substream } from "../lib/task/random.ts";
import { runExperiment } from "../lib/store/experiment.ts";
import { decodeSnapshot, readSnapshot, snapshotPath } from "../lib/training/train_snapshot.ts";
import { decodeSafetensors, encodeSafetensors } from "../lib/training/safetensors.ts";
import { type RunResult, TIMING_FIELDS } from "../lib/store/results.ts";
import { runKey } from "../lib/store/run_key.ts";
import { problemCommand } from "./fixtures/spawn.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";
import { TINY } from "./fixtures/tiny_run.ts";

await initBackend();

/** A tiny 30-step run with a check (and so a possible snapshot) every 10 steps. */
function tiny(model: ModelName): ExperimentConfig {
  return { ...TINY, model, steps: 30, checkEvery: 10, warmup: 3, farLengths: [4] };
}

function withoutTiming(r: RunResult): unknown {
  return JSON.parse(JSON.stringify(r, (k, v) => (TIMING_FIELDS as readonly string[]).includes(k) ? undefined : v));
}

class Stop extends Error {}

/** Run `config` with snapshots at every check, stopped (as a killed process would be) after the one at `stopAt`. */
async function stoppedAt(config: ExperimentConfig, path: string, stopAt: number): Promise<void> {
  await assert.rejects(
    runExperiment(config, {
      snapshot: { path, everySeconds: 0 },
      onSnapshot: (step) => {
        if (step === stopAt) throw new Stop();
      },
    }),
    Stop,
  );
}

Deno.test("a random stream restored from its snapshot (through JSON) continues draw for draw", () => {
  const a = substream(7, "train");
  for (let i = 0; i < 1000; i++) a.int(16);
  a.gaussian(); // leaves a cached Gaussian
  const b = restoreStream(JSON.parse(JSON.stringify(a.snapshot())));
  for (let i = 0; i < 2000; i++) {
    assert.equal(b.gaussian(), a.gaussian());
    assert.equal(b.int(13), a.int(13));
    assert.equal(b.u32(), a.u32());
  }
  assert.throws(() => restoreStream({ mt: [1, 2], position: 0, cachedGaussian: null }), /not a random stream state/);
});

for (const model of ["mamba", "hybrid", "tf-rope"] as const) {
  Deno.test(`${model}: a run stopped part-way and resumed from its snapshot ends bit for bit as the uninterrupted run`, async () => {
    await withTempDir(async (dir) => {
      const config = tiny(model);
      const whole = await runExperiment(config, { checkpoint: join(dir, "whole.safetensors") });
      assert.ok(whole.stepsRun > 10, `the run should be continued past its cap to test a resume across it`);
      for (const stopAt of [10, 20].filter((s) => s < whole.stepsRun)) {
        const path = join(dir, `part${stopAt}.partial.safetensors`);
        await stoppedAt(config, path, stopAt);
        const saved = decodeSnapshot(await runKey(config), await Deno.readFile(path));
        assert.ok(!("unusable" in saved) && saved.startedAt !== undefined);
        const notes: string[] = [];
        const resumed = await runExperiment(config, {
          snapshot: { path, everySeconds: 3600 },
          checkpoint: join(dir, `resumed${stopAt}.safetensors`),
          onNote: (t) => notes.push(t),
        });
        assert.deepEqual(notes, [`resuming from the snapshot at step ${stopAt} (${path})`]);
        assert.deepEqual(withoutTiming(resumed), withoutTiming(whole), `stopped at ${stopAt}`);
        assert.deepEqual(
          await Deno.readFile(join(dir, `resumed${stopAt}.safetensors`)),
          await Deno.readFile(join(dir, "whole.safetensors")),
          `final weights, stopped at ${stopAt}`,
        );
        assert.ok(resumed.timing.trainSeconds > 0);
        assert.equal(resumed.startedAt, saved.startedAt, "a resumed run keeps its first start");
      }
    });
  });
}

Deno.test("a snapshot of another run, of other code or damaged is not resumed from, and the run starts at step 0", async () => {
  await withTempDir(async (dir) => {
    const config = tiny("mamba");
    const whole = await runExperiment(config);
    const path = join(dir, "x.partial.safetensors");
    await stoppedAt({ ...config, seed: 4 }, path, 10); // another run's snapshot at this path
    const key = await runKey(config);
    const found = await readSnapshot(path, key);
    assert.ok(found !== null && "unusable" in found && /it is of run [0-9a-f]{16}, not /.test(found.unusable));
    const notes: string[] = [];
    const r = await runExperiment(config, { snapshot: { path, everySeconds: 3600 }, onNote: (t) => notes.push(t) });
    assert.equal(notes.length, 1);
    assert.match(notes[0], /not used \(it is of run .*\); training from step 0/);
    assert.deepEqual(withoutTiming(r), withoutTiming(whole));

    await Deno.writeTextFile(path, "not a snapshot");
    const damaged = await readSnapshot(path, key);
    assert.ok(damaged !== null && "unusable" in damaged && damaged.unusable.startsWith("not a valid file"));
  });
});

Deno.test("a snapshot from an older training revision is not used", async () => {
  await withTempDir(async (dir) => {
    const config = tiny("mamba");
    const path = join(dir, "x.partial.safetensors");
    await stoppedAt(config, path, 10);
    const key = await runKey(config);
    const file = decodeSafetensors(await Deno.readFile(path));
    assert.ok(!("unusable" in decodeSnapshot(key, encodeSafetensors(file.tensors, file.metadata))));
    const older = encodeSafetensors(file.tensors, { ...file.metadata, revision: "0" });
    const verdict = decodeSnapshot(key, older);
    assert.ok("unusable" in verdict && verdict.unusable.startsWith("it is of training revision 0"));
  });
});

Deno.test("a sweep resumes a run from the snapshot it finds and removes the snapshot once the run file is written", async () => {
  await withTempDir(async (dir) => {
    const first = await problemCommand("p1", ["--quick", "--steps", "30", "--out", join(dir, "a"), "--jobs", "1"])
      .output();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    const runsA = join(dir, "a", "p1", "runs");
    const name = [...Deno.readDirSync(runsA)].map((e) =>
      e.name
    ).filter((n) => /^[0-9a-f]{16}\.json$/.test(n)).sort()[0];
    const run: RunResult = JSON.parse(await Deno.readTextFile(join(runsA, name)));
    const runsB = join(dir, "b", "p1", "runs");
    await Deno.mkdir(runsB, { recursive: true });
    const partial = snapshotPath(join(runsB, name));
    await stoppedAt(run.config, partial, 20); // quick mode checks (and so may snapshot) every 20 steps

    const out = await problemCommand("p1", ["--quick", "--steps", "30", "--out", join(dir, "b"), "--jobs", "1"])
      .output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.match(stderr, new RegExp(`resuming from the snapshot at step 20 \\(${partial.replace(/[.]/g, "\\.")}\\)`));
    assert.equal(stderr.match(/resuming from the snapshot/g)?.length, 1, stderr);
    const resumed: RunResult = JSON.parse(await Deno.readTextFile(join(runsB, name)));
    assert.deepEqual(withoutTiming(resumed), withoutTiming(run));
    assert.ok(![...Deno.readDirSync(runsB)].some((e) => e.name.endsWith(".partial.safetensors")), "snapshots left");
  });
});

Deno.test("deno task run --snapshot resumes a run stopped part-way and removes the snapshot when done", async () => {
  await withTempDir(async (dir) => {
    const { testBatch: _, ...config } = tiny("mamba"); // the CLI has no --test-batch: the default on both sides
    const flags = [
      ["model", "mamba"],
      ["K", 16],
      ["d", 8],
      ["M", 1],
      ["L", 16],
      ["tau", 1],
      ["seed", 3],
      ["steps", 30],
      ["far-lengths", "4"],
      ["check-every", 10],
      ["batch", 16],
      ["warmup", 3],
      ["lr", 0.01],
      ["eval-samples", 8],
      ["headline-samples", 16],
    ].flatMap(([k, v]) => [`--${k}`, String(v)]);
    const run = (out: string, extra: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "lib/cli/run.ts", ...flags, "--out", out, ...extra],
        stdout: "piped",
        stderr: "piped",
      }).output();
    const whole = await run(join(dir, "whole.json"), []);
    assert.equal(whole.code, 0, new TextDecoder().decode(whole.stderr));
    const snap = join(dir, "run.partial.safetensors");
    await stoppedAt(config, snap, 10);
    const resumed = await run(join(dir, "resumed.json"), ["--snapshot", snap]);
    const stderr = new TextDecoder().decode(resumed.stderr);
    assert.equal(resumed.code, 0, stderr);
    assert.match(stderr, /resuming from the snapshot at step 10/);
    const a: RunResult = JSON.parse(await Deno.readTextFile(join(dir, "whole.json")));
    const b: RunResult = JSON.parse(await Deno.readTextFile(join(dir, "resumed.json")));
    assert.deepEqual(withoutTiming(b), withoutTiming(a));
    assert.equal(await Deno.stat(snap).catch(() => null), null, "the snapshot is removed");
  });
});
