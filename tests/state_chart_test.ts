import assert from "node:assert/strict";
import { QUERY_LEARNED, stateParts, statePoints } from "../lib/site/state_chart.ts";
import type { ProbeResult } from "../lib/probes/probe_run.ts";
import type { RunResult } from "../lib/store/results.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";
import { fixtureProbe } from "./fixtures/probe_fixture.ts";

/** A Mamba run of the state study's shape, at M = 8, answering its first `learned` queries. */
function run(d: number, stateSize: number, expand: number, seed: number): RunResult {
  const r = fixtureRun({ model: "mamba", M: 8, d, tau: 1, seed });
  return { ...r, key: `${r.key}-${d}-${stateSize}-${expand}`, config: { ...r.config, stateSize, expand } };
}

function probed(runs: readonly RunResult[], learned: (r: RunResult) => number): Map<string, ProbeResult> {
  return new Map(runs.map((r) => [
    r.key,
    fixtureProbe(r, { queries: Array.from({ length: 8 }, (_, q) => (q < learned(r) ? 0.95 : QUERY_LEARNED - 0.2)) }),
  ]));
}

Deno.test("the state chart counts each run's learned queries and places it by state numbers and parameters", () => {
  const runs = [run(8, 4, 2, 0), run(8, 16, 2, 0), run(8, 16, 4, 0), run(16, 16, 2, 0)];
  const points = statePoints(runs, probed(runs, (r) => (r.config.stateSize ?? 16) / 4));
  // The d = 8, n = 16, e/d = 2 run is a point of both families; every other run of one.
  assert.deepEqual(
    points.map((p) => [p.family, p.state, p.queries]),
    [
      ["n varied, e/d = 2", 16 * 4, 1],
      ["n varied, e/d = 2", 16 * 16, 4],
      ["d varied, n = 16, e/d = 2", 16 * 16, 4],
      ["n varied, e/d = 4", 32 * 16, 4],
      ["d varied, n = 16, e/d = 2", 32 * 16, 4],
    ],
  );
  assert.match(points[0].title, /M = 8, d = 8, n = 4, e\/d = 2, seed 0: 1 of 8 queries at ≥ 80%; 64 state numbers/);
  const parts = stateParts(runs, probed(runs, () => 3));
  assert.deepEqual(parts.map((p) => p.id), ["state-queries-state", "state-queries-params"]);
  assert.match(
    parts[0].chart!(),
    /<figure class="chart" id="state-queries-state">.*Zoology \(Arora et al\., 2023\) found/s,
  );
  assert.match(stateParts(runs, new Map())[0].note ?? "", /No run has its per-query probe yet/);
});
