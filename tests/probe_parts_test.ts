/**
 * The probe figures on a problem page: a run with a probe file gets heat maps and line charts (and a page
 * that stays self-contained); a problem folder without probe files gets no probe part at all.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { initBackend } from "../lib/platform/backend.ts";
import { runExperiment } from "../lib/store/experiment.ts";
import type { ProblemResults } from "../lib/store/results.ts";
import { probeDir, readProbes } from "../lib/probes/probe_file.ts";
import { probeParts } from "../lib/site/probe_parts.ts";
import { renderPartsPage, renderProblemPage } from "../lib/site/page.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";
import { problemOf } from "./fixtures/registry.ts";
import { withoutLegendScript } from "./fixtures/offline.ts";

await initBackend();

const SMALL = { accuracySamples: 4, distances: 5, traceSamples: 10, window: 3, shortLengths: 4 };

Deno.test("runs with a probe file get heat maps and line charts on a self-contained page; others get none", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "runs"));
    const base = fixtureResults("p2");
    const runs = [];
    for (const model of ["hybrid", "tf-rope"] as const) {
      const tmp = join(dir, "runs", "tmp.safetensors");
      const config = { model, K: 16, d: 8, M: 4, L: 12, tau: 1, seed: 0, steps: 20, evalSamples: 8, batch: 16 };
      const r = await runExperiment({ ...config, checkEvery: 10, testBatch: 32 }, { checkpoint: tmp });
      await Deno.rename(tmp, join(dir, "runs", `${r.key}.safetensors`));
      runs.push(r);
    }
    const results: ProblemResults = { ...base, runs: [...base.runs, ...runs] };
    assert.deepEqual(
      probeParts(results, await readProbes(dir, results.runs)),
      [],
      "no probe files yet: no probe parts",
    );
    await probeDir(dir, runs, { options: SMALL, log: () => {} });
    const parts = probeParts(results, await readProbes(dir, results.runs));
    const ids = parts.map((p) => p.id);
    for (
      const id of ["distance", "query", "outside", "short", "attention-scores", "attention-aligned", "mamba-delta"]
    ) {
      assert.ok(ids.includes(`p2-probe-${id}`), `missing part ${id}: ${ids}`);
    }
    const html = renderProblemPage(problemOf(results), results, { results: new Map() }, parts);
    assert.ok(html.includes('id="p2-probe-attention-aligned"'));
    assert.ok((html.match(/aria-label="probe line: /g) ?? []).length >= 6);
    assert.ok((html.match(/class="panel"/g) ?? []).length >= 4);
    // A study with authored answers adds the legend toggles' inline script; nothing else may run or load.
    for (const bad of ["NaN", "undefined", "Infinity", "<script", "<link", "url("]) {
      assert.ok(!withoutLegendScript(html).includes(bad), bad);
    }
    assert.doesNotMatch(html, /https?:\/\//i);
    const plain = renderProblemPage(problemOf(results), results, { results: new Map() });
    assert.ok(!plain.includes("p2-probe-"));
    // The pages keep the probes on a page of their own, linked from the problem's, so the problem's page stays light.
    const linked = renderProblemPage(problemOf(results), results, { results: new Map() }, [], "probes.html");
    assert.ok(linked.includes('href="probes.html"') && !linked.includes("p2-probe-"));
    const probesPage = renderPartsPage(problemOf(results), "Problem 2: probes", parts);
    assert.ok(probesPage.includes('id="p2-probe-attention-aligned"') && probesPage.includes('href="index.html"'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
