import assert from "node:assert/strict";
import { paperTable } from "../lib/site/pages/length.ts";
import type { RunResult } from "../lib/store/results.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";

/** A run at the paper's setting (L = 256, batch 8) scored 96 of 100 at 2x and 50 of 64 at 4x its length. */
function paperRun(): RunResult {
  const r = fixtureRun({ model: "mamba", M: 1, d: 64, tau: 1, seed: 0 });
  return {
    ...r,
    config: { ...r.config, L: 256, batch: 8, steps: 204800, lr: 1e-3 },
    accuracyByLength: [
      { length: 512, accuracy: 0.96, samples: 100 },
      { length: 1024, accuracy: 50 / 64, samples: 64 },
    ],
  };
}

Deno.test("the length page sets the paper's numbers beside ours at the same multiples, with Wilson intervals", () => {
  const run = paperRun();
  const long = new Map([[run.key, {
    final: {
      key: run.key,
      weights: "final" as const,
      lengths: [{ length: 2 ** 20, accuracy: 1, samples: 64 }],
      seconds: 1,
    },
  }]]);
  const table = paperTable([run], long)!;
  const lines = table.split("\n");
  assert.match(
    lines[0],
    /\| 2x \(2\^9\) \| 4x \(2\^10\) \| 16x \(2\^12\) \| 64x \(2\^14\) \| 256x \(2\^16\) \| 4096x \(2\^20\) \|$/,
  );
  assert.match(table, /\| paper: MHA-RoPE \| 256 tokens \| 83\.6% \| 31\.3% \| — \|/);
  const ours = lines.find((l) => l.startsWith("| ours: Mamba, d = 64, seed 0"))!;
  assert.match(
    ours,
    /\| 204,800 steps, lr 0\.001 \| 96% \[90\.2–98\.4%\] \(n = 100\) \| 78\.1% \[66\.6–86\.5%\] \(n = 64\) \| — \|/,
  );
  assert.match(ours, /\| 100% \[94\.3–100%\] \(n = 64\) \|$/, "2^20 from the final checkpoint's long evaluation");
  assert.equal(paperTable([fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed: 0 })], undefined), null);
});
