import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/platform/backend.ts";
import { runExperiment } from "../lib/store/experiment.ts";
import { evaluateLongDir, longPath, readLong, readLongs } from "../lib/probes/long_file.ts";
import { longTable } from "../lib/site/pages/length.ts";
import { evaluateLong, weightsOfCheckpoint } from "../lib/training/evaluate_long.ts";
import { loadCheckpoint } from "../lib/training/checkpoint.ts";
import { TINY } from "./fixtures/tiny_run.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";

await initBackend();

Deno.test("long evaluations are written length by length beside the run, resume where they stopped, and repeat nothing", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "runs"));
    const run = await runExperiment({ ...TINY, target: 0 }, { checkpoint: join(dir, "runs", "x.safetensors") });
    for (const suffix of [".safetensors", ".converged.safetensors"]) {
      await Deno.rename(join(dir, "runs", `x${suffix}`), join(dir, "runs", `${run.key}${suffix}`));
    }
    const log: string[] = [];
    const first = await evaluateLongDir(dir, [run], {
      lengths: [64, 128],
      samples: 8,
      weights: ["final"],
      log: (l) => log.push(l),
    });
    assert.deepEqual(first, { evaluated: 1, complete: 0, noCheckpoint: 0, damaged: 0 });
    const again = await evaluateLongDir(dir, [run], {
      lengths: [64, 128, 256],
      samples: 8,
      weights: ["final", "converged"],
      log: (l) => log.push(l),
    });
    assert.deepEqual(again, { evaluated: 2, complete: 0, noCheckpoint: 0, damaged: 0 });
    assert.equal(log.filter((l) => l.includes("(final) at 64")).length, 1, "a length already there is not redone");
    const final = (await readLong(dir, run.key, "final"))!;
    assert.deepEqual(final.lengths.map((p) => p.length), [64, 128, 256]);
    const direct = evaluateLong(
      weightsOfCheckpoint(await loadCheckpoint(join(dir, "runs", `${run.key}.safetensors`))),
      [256],
      8,
    );
    assert.deepEqual(final.lengths[2], direct[0], "the same numbers as the evaluator on the checkpoint");
    assert.ok((await readLong(dir, run.key, "converged")) !== null);
    assert.ok(longPath(dir, run.key, "converged").endsWith(`${run.key}.converged.long.json`));
    const table = longTable([run], await readLongs(dir, [run]))!;
    assert.match(table, /\| mamba \| 8 \| 16 \| at 99% \| 1 \| .* \|\n\| mamba \| 8 \| 16 \| trained on \| 1 \| .*\|$/);
    assert.equal(longTable([run], new Map()), null, "no table before any long evaluation");
    const done = await evaluateLongDir(dir, [run], {
      lengths: [64, 256],
      samples: 8,
      weights: ["final"],
      log: () => {},
    });
    assert.deepEqual(done, { evaluated: 0, complete: 1, noCheckpoint: 0, damaged: 0 });
  });
});
