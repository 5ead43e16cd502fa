import assert from "node:assert/strict";
import { withTempDir } from "./fixtures/temp_dir.ts";
import { join } from "node:path";
import { parseHTML } from "linkedom";
import { checkProblemResults, type RunResult } from "../lib/store/results.ts";
import { lineOffset } from "../lib/site/plot_dom.ts";
import { endingOf } from "../lib/site/ending.ts";
import { withoutLegendScript } from "./fixtures/offline.ts";
import { readAllResults, writeReports } from "../lib/site/write.ts";

import { headlineOf, REGISTRY, renderIndex, renderPage } from "./fixtures/registry.ts";
import { FIXTURE_L, fixtureResults, withAccuracy } from "./fixtures/results_fixture.ts";
import { MODEL_NAMES, modelSpec } from "../lib/models/model_table.ts";
import { shadeOf } from "../lib/site/charts.ts";

const PROBLEMS = ["p1", "p2", "p3"] as const;

const rendered = new Map<string, string>();

/** The page of a problem's full fixture, rendered once per test file. */
function page(p: (typeof PROBLEMS)[number]): string {
  if (!rendered.has(p)) rendered.set(p, renderPage(fixtureResults(p)));
  return rendered.get(p)!;
}

interface Dom {
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string }>;
  querySelector(selector: string): { textContent: string; outerHTML: string } | null;
}

function dom(html: string): Dom {
  return (parseHTML(html) as unknown as { document: Dom }).document;
}

function labels(html: string, selector: string): string[] {
  return Array.from(dom(html).querySelectorAll(selector)).map((e) => e.getAttribute("aria-label") ?? "");
}

function isRun(model: string, fields: Partial<Record<"M" | "d" | "tau", number>>): (r: RunResult) => boolean {
  return (r) =>
    r.config.model === model && Object.entries(fields).every(([k, v]) => r.config[k as "M" | "d" | "tau"] === v);
}

Deno.test("the synthetic fixture results are valid results files with multi-seed, capped and diverged runs", () => {
  for (const p of PROBLEMS) checkProblemResults(fixtureResults(p));
  const statuses = fixtureResults("p1").runs.map((r) => r.status);
  assert.ok(statuses.includes("cap") && statuses.includes("diverged"));
  assert.equal(fixtureResults("p1").runs.filter(isRun("mamba", { tau: 1 })).length, 3);
});

Deno.test("each accuracy chart draws exactly one line per model and panel, and none for a diverged run", () => {
  const p1 = labels(page("p1"), '#p1-accuracy path[aria-label^="accuracy line: "]');
  const expectedP1 = [1, 5].flatMap((tau) =>
    MODEL_NAMES
      .filter((m) => !(m === "tf-nope" && tau === 5))
      .map((m) => `accuracy line: ${m}, τ = ${tau}`)
  );
  assert.deepEqual([...p1].sort(), [...expectedP1].sort());

  const p2 = labels(page("p2"), '#p2-accuracy path[aria-label^="accuracy line: "]');
  const expectedP2 = [4, 8, 16].flatMap((M) =>
    ["tf-rope", "mamba", "hybrid"].map((m) => `accuracy line: ${m}, M = ${M}`)
  );
  assert.deepEqual([...p2].sort(), [...expectedP2].sort());

  const p3html = page("p3");
  const p3 = labels(p3html, '#p3-accuracy path[aria-label^="accuracy line: "]');
  const expectedP3 = [4, 8, 16].flatMap((M) => [8, 64].map((d) => `accuracy line: mamba (d = ${d}), M = ${M}`));
  assert.deepEqual([...p3].sort(), [...expectedP3].sort());
  const delay = labels(p3html, '#p3-delay path[aria-label^="accuracy line: "]');
  assert.deepEqual(delay, ["accuracy line: mamba (τ = 1)", "accuracy line: mamba (τ = 10)"]);
});

Deno.test("a setting with several seeds gets one min–max band, single-seed settings none", () => {
  const html = page("p1");
  assert.deepEqual(labels(html, '#p1-accuracy path[aria-label^="seed band: "]'), ["seed band: mamba, τ = 1"]);
  assert.match(html, /3 seeds: bold line = mean over seeds, band = their min–max/);
});

Deno.test("pages contain no NaN, no script but the inline legend toggle, and reference no external resource", () => {
  const pages = [
    ...PROBLEMS.map(page),
    renderIndex({ p1: fixtureResults("p1"), p2: fixtureResults("p2"), p3: fixtureResults("p3") }),
  ];
  for (const page of pages) {
    const html = withoutLegendScript(page);
    for (const bad of ["NaN", "undefined", "Infinity", "[object Object]", "<script", "<link", "@import", "url("]) {
      assert.ok(!html.includes(bad), `page contains ${bad}`);
    }
    assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    assert.doesNotMatch(html, /https?:\/\//i);
  }
});

Deno.test("the headline follows the numbers: editing one accuracy changes it", () => {
  const before = fixtureResults("p2");
  const edited = withAccuracy(before, isRun("mamba", { M: 16 }), FIXTURE_L, 0.421875);
  assert.notEqual(headlineOf(before), headlineOf(edited));
  assert.match(headlineOf(edited), /mamba 42\.2% and [\d.]+%/);
});

Deno.test("diverged and capped runs are described in words, not drawn as numbers", () => {
  const html = page("p1");
  assert.match(html, /τ = 5: diverged at step 730, no accuracy curve/);
  assert.match(
    html,
    /τ = 5: not converged within 4,000 steps; the last fifth of its checks on the test batch averaged 87\.9% \(dashed\)/,
  );
  assert.deepEqual(labels(html, '#p1-accuracy path[aria-label="accuracy line: tf-nope, τ = 5"]'), []);
});

Deno.test("a run stopped while still improving is reported as still improving, never as one that cannot learn", () => {
  const results = fixtureResults("p1");
  const improving = {
    ...results,
    runs: results.runs.map((r) =>
      r.status === "cap" ? { ...r, verdict: "still improving" as const, stepsRun: 16000, baseSteps: 4000 } : r
    ),
  };
  const html = renderPage(improving);
  assert.match(html, /τ = 5: still improving at 16,000 steps/);
  assert.doesNotMatch(html, /plateaued/);
  for (const text of [page("p1"), page("p2"), page("p3"), html]) {
    assert.doesNotMatch(text, /did not learn|cannot learn|can't|unable/i);
  }
});

Deno.test("the convergence chart draws every seed's curve and states the batch size", () => {
  const html = page("p1");
  const caption = dom(html).querySelector("#p1-convergence figcaption")?.textContent ?? "";
  assert.match(caption, /Training minibatch size 64/);
  assert.ok(labels(html, '#p1-convergence path[aria-label^="training curve: "]').length >= 12);
});

Deno.test("the header states command, dates, wall time, cores, versions, backend and finished of planned runs", () => {
  const html = renderPage(fixtureResults("p1", 5));
  const header = dom(html).querySelector("header")?.textContent ?? "";
  for (
    const expected of [
      "deno task p1 --L 32 --seeds 1",
      "2024-11-28 17:00 UTC",
      "1 h 02 min",
      "2 CPU cores",
      "recall-lab 0.1.0, Deno 2.9.6, V8 14.0.0, TF.js 4.22.0",
      "wasm, SIMD on, threads off (tfjs-backend-wasm-simd.wasm)",
      "5 of 12 planned runs finished",
      "interrupted",
    ]
  ) assert.ok(header.includes(expected), `header lacks ${expected}: ${header}`);
  assert.ok(!page("p1").includes("interrupted"));
});

Deno.test("a sweep with no finished run still renders valid pages", () => {
  const empty = fixtureResults("p3", 0);
  const html = renderPage(empty);
  assert.match(html, /0 of 7 planned runs finished/);
  assert.match(html, /No finished runs yet/);
  assert.equal(headlineOf(empty), "No finished runs yet (0 of 7 planned).");
  assert.ok(!html.includes("NaN") && !html.includes("Infinity"));
});

Deno.test("1px lines sit on the half-pixel grid, so they are drawn crisp", () => {
  assert.equal(lineOffset(), 0.5);
  const html = page("p1");
  assert.match(
    html,
    /<g[^>]*transform="translate\(0\.5,0\)"[^>]*aria-label="rule"|aria-label="rule"[^>]*translate\(0\.5,0\)/,
  );
  assert.equal((globalThis as { window?: unknown }).window, undefined, "the stand-in window is removed");
});

Deno.test("headlines are one computed sentence, and the index links each problem with its headline", () => {
  const all = { p1: fixtureResults("p1"), p2: fixtureResults("p2"), p3: fixtureResults("p3") };
  for (const p of PROBLEMS) {
    const h = headlineOf(all[p]);
    assert.match(h, /^[A-Z].*%.*\.$/);
    assert.ok(!h.includes("\n"));
  }
  const index = renderIndex(all);
  for (const p of PROBLEMS) {
    assert.ok(index.includes(`href="${p}/index.html"`));
    assert.ok(dom(index).querySelector("ol.problems")?.textContent.includes(headlineOf(all[p])));
  }
  assert.match(renderIndex({ p1: all.p1 }), /Not run yet/);
});

Deno.test("writeReports writes a page for each results file present and the index, leaving no temporary files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reports_" });
  try {
    for (const p of ["p1", "p3"] as const) {
      await Deno.mkdir(join(dir, p));
      await Deno.writeTextFile(join(dir, p, "results.json"), JSON.stringify(fixtureResults(p)));
    }
    await writeReports(dir);
    const p1 = await Deno.readTextFile(join(dir, "p1", "index.html"));
    assert.ok(p1.startsWith("<!doctype html>") && p1.includes("<svg"));
    assert.ok((await Deno.readTextFile(join(dir, "p3", "index.html"))).includes("Problem 3"));
    await assert.rejects(Deno.stat(join(dir, "p2", "index.html")));
    const index = await Deno.readTextFile(join(dir, "index.html"));
    assert.ok(index.includes('href="p1/index.html"') && index.includes("Not run yet"));
    const names: string[] = [];
    for (const sub of [dir, join(dir, "p1"), join(dir, "p3")]) {
      for await (const e of Deno.readDir(sub)) names.push(e.name);
    }
    assert.deepEqual(names.filter((n) => n.includes(".tmp")), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a results.json that does not parse is rebuilt from the run files, with one line saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "reports_" });
  try {
    const fixture = fixtureResults("p2");
    await Deno.mkdir(join(dir, "p2", "runs"), { recursive: true });
    for (const run of fixture.runs) {
      await Deno.writeTextFile(join(dir, "p2", "runs", `${run.key}.json`), JSON.stringify(run));
    }
    await Deno.writeTextFile(join(dir, "p2", "results.json"), "{ not json");
    const lines: string[] = [];
    const all = await readAllResults(dir, REGISTRY, (line) => lines.push(line));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /p2\/results\.json does not parse .*rebuilt from 9 run files/);
    const rebuilt = JSON.parse(await Deno.readTextFile(join(dir, "p2", "results.json")));
    checkProblemResults(rebuilt);
    assert.equal(all.get("p2")!.runs.length, fixture.runs.length);
    assert.deepEqual(new Set(rebuilt.runs.map((r: RunResult) => r.key)), new Set(fixture.runs.map((r) => r.key)));
    await writeReports(dir, REGISTRY);
    assert.ok((await Deno.readTextFile(join(dir, "p2", "index.html"))).includes("Problem 2"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run files without a results.json are shown, not reported as 'not run yet', and nothing is written", async () => {
  await withTempDir(async (dir) => {
    const fixture = fixtureResults("p2");
    await Deno.mkdir(join(dir, "p2", "runs"), { recursive: true });
    for (const run of fixture.runs) {
      await Deno.writeTextFile(join(dir, "p2", "runs", `${run.key}.json`), JSON.stringify(run));
    }
    const lines: string[] = [];
    const all = await readAllResults(dir, REGISTRY, (line) => lines.push(line));
    assert.deepEqual(lines.map((l) => l.replace(dir, "DIR")), [
      "DIR/p2/results.json is missing: the report shows the 9 run files found",
    ]);
    assert.equal(all.get("p2")!.runs.length, 9);
    assert.equal(await Deno.stat(join(dir, "p2", "results.json")).then(() => true, () => false), false);
  });
});

Deno.test("a bad value inside a results file is named with the file and the setting, not as a command-line flag", async () => {
  await withTempDir(async (dir) => {
    const fixture = fixtureResults("p2");
    const rope = fixture.runs.findIndex((r) => r.config.model === "tf-rope");
    const bad = {
      ...fixture,
      runs: fixture.runs.map((r, i) => i === rope ? { ...r, config: { ...r.config, heads: 3 } } : r),
    };
    await Deno.mkdir(join(dir, "p2"), { recursive: true });
    await Deno.writeTextFile(join(dir, "p2", "results.json"), JSON.stringify(bad));
    const lines: string[] = [];
    await readAllResults(dir, REGISTRY, (line) => lines.push(line));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /p2\/results\.json fails the schema .*runs\[\d+\]: its config is not valid: setting heads /);
    assert.ok(!lines[0].includes("--heads"));
  });
});

/** Whether `color` is `hue` mixed toward white or black (to within rounding). */
function isShadeOf(color: string, hue: string): boolean {
  return [...Array(101).keys()].some((i) =>
    [shadeOf(hue, i / 100), shadeOf(hue, -i / 100)].some((c) =>
      [1, 3, 5].every((k) => Math.abs(parseInt(c.slice(k, k + 2), 16) - parseInt(color.slice(k, k + 2), 16)) <= 2)
    )
  );
}

/** The stroke colour of every SVG path whose aria-label starts with `prefix`, by label. */
function strokes(html: string, prefix: string): Map<string, string> {
  const paths = Array.from(dom(html).querySelectorAll(`path[aria-label^="${prefix}"]`));
  return new Map(paths.map((e) => [e.getAttribute("aria-label") ?? "", e.getAttribute("stroke") ?? ""]));
}

Deno.test("a model's lines have its table colour on every page; settings of one model are shades of that hue", () => {
  for (const p of PROBLEMS) {
    for (const prefix of ["accuracy line: ", "training curve: "]) {
      const byLabel = strokes(page(p), prefix);
      assert.ok(byLabel.size > 0, `${p}: no ${prefix}`);
      for (const [label, stroke] of byLabel) {
        const model = MODEL_NAMES.find((m) =>
          label.startsWith(`${prefix}${m},`) || label.startsWith(`${prefix}${m} (`)
        );
        assert.ok(model !== undefined, label);
        const hue = modelSpec(model).color;
        // p1 and p2 name each model once per panel: its exact colour; p3 names mamba by d or tau: shades of green
        if (p === "p3") assert.ok(isShadeOf(stroke, hue), `${label}: ${stroke} is not a shade of ${hue}`);
        else assert.equal(stroke, hue, label);
      }
    }
  }
  const p3 = strokes(page("p3"), "accuracy line: ");
  const green = modelSpec("mamba").color;
  assert.equal(p3.get("accuracy line: mamba (d = 8), M = 4"), shadeOf(green, 0.45));
  assert.equal(p3.get("accuracy line: mamba (d = 64), M = 4"), shadeOf(green, -0.4));
});

Deno.test("shadeOf() mixes a colour toward white or black by the given fraction", () => {
  assert.equal(shadeOf("#3ca951", 0), "#3ca951");
  assert.equal(shadeOf("#3ca951", 1), "#ffffff");
  assert.equal(shadeOf("#3ca951", -1), "#000000");
  assert.equal(shadeOf("#204080", 0.5), "#90a0c0");
  assert.equal(shadeOf("#204080", -0.5), "#102040");
});

Deno.test("a run that did not converge is described by its last fifth of checks, never by its best check", () => {
  const run = fixtureResults("p1").runs.find((r) => r.verdict === "plateaued")!;
  const swinging = {
    ...run,
    history: run.history.map((h, i) => ({ ...h, accuracy: i % 2 === 0 ? 0.81 : 1 })),
  };
  const text = endingOf(swinging);
  assert.match(text, /^not converged within [\d,]+ steps; last fifth of checks 90\.5% \(81–100%\)$/);
  assert.doesNotMatch(text, /not learned|plateaued at 100%/);
});
