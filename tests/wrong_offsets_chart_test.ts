import assert from "node:assert/strict";
import { wrongOffsetPoints, wrongOffsetsPart } from "../lib/site/wrong_offsets_chart.ts";
import type { ProbeResult } from "../lib/probes/probe_run.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";
import { fixtureProbe } from "./fixtures/probe_fixture.ts";

Deno.test("the wrong-offsets chart averages the probed seeds of each setting and says when none was probed", () => {
  const runs = [0, 1].map((seed) => fixtureRun({ model: "mamba", M: 1, d: 8, tau: 5, seed }));
  const probes = new Map<string, ProbeResult>(runs.map((r, i) => {
    const offsets = Array.from({ length: 20 }, (_, k) => k + 1);
    const share = offsets.map((o) => (o === 3 ? 0.5 + 0.2 * i : 0.02));
    return [r.key, { ...fixtureProbe(r, {}), wrongOffsets: { length: 32, offsets, share, wrong: 100, samples: 1024 } }];
  }));
  const points = wrongOffsetPoints(runs, probes);
  assert.equal(points.length, 20);
  assert.ok(Math.abs(points[2].share - 0.6) < 1e-12, "offset 3: the mean of 0.5 and 0.7");
  assert.match(points[2].title, /mamba, τ = 5: offset 3, 60% of wrong answers \(2 seeds\)/);
  const part = wrongOffsetsPart("x", runs, probes);
  assert.match(part.chart!(), /<figure class="chart" id="x">.*chance, 1\/\(K-1\) = 6\.7% per offset/s);
  assert.match(wrongOffsetsPart("x", runs, new Map()).note ?? "", /No run has this probe yet/);
});
