import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import { binnedCurve } from "../lib/site/binned_curve.ts";
import { stepTickText } from "../lib/site/charts.ts";
import { groupSeries, type Series } from "../lib/site/series.ts";
import type { RunResult } from "../lib/store/results.ts";
import { renderPage } from "./fixtures/registry.ts";
import { FIXTURE_L, fixtureResults, fixtureRun } from "./fixtures/results_fixture.ts";
import { mt19937 } from "../lib/task/random.ts";

interface El {
  getAttribute(name: string): string | null;
  textContent: string;
  parentNode: El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}

function dom(html: string): El {
  return (parseHTML(html) as unknown as { document: El }).document;
}

const pages = new Map((["p1", "p2", "p3"] as const).map((p) => [p, dom(renderPage(fixtureResults(p)))]));

/** Tick label texts of one axis of the first panel of a chart (`axis`: "x" or "y"). */
function tickLabels(page: El, figure: string, axis: "x" | "y"): string[] {
  const group = page.querySelectorAll(`#${figure} g[aria-label="${axis}-axis tick label"]`)[0];
  assert.ok(group !== undefined, `${figure}: no ${axis}-axis tick labels`);
  const firstPanel = group.querySelectorAll("g")[0] ?? group; // faceted: one <g> per panel
  return Array.from(firstPanel.querySelectorAll("text")).map((t) => {
    const lines = Array.from(t.querySelectorAll("tspan")).map((x) => x.textContent); // "64", "2L" on two lines
    return lines.length > 0 ? lines.join(" ") : t.textContent;
  });
}

/** The translate(x, y) of an element's transform attribute. */
function translate(e: El): [number, number] {
  const m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(e.getAttribute("transform") ?? "");
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

Deno.test("every axis tick of every chart has a label, 500 and 5k included on the log step axis", () => {
  for (const [p, page] of pages) {
    const groups = Array.from(page.querySelectorAll('figure.chart g[aria-label$="-axis tick label"]'));
    assert.ok(groups.length >= 4, `${p}: axes found`);
    for (const g of groups) {
      for (const t of Array.from(g.querySelectorAll("text"))) assert.notEqual(t.textContent.trim(), "", p);
    }
  }
  // The fixture trains 50..4000 steps: every 1-2-5 tick in that range is there and labelled.
  assert.deepEqual(tickLabels(pages.get("p1")!, "p1-convergence", "x"), ["50", "100", "200", "500", "1k", "2k"]);
  assert.deepEqual([500, 5000, 20000, 1500000, 50].map(stepTickText), ["500", "5k", "20k", "1.5M", "50"]);
  const lengths = tickLabels(pages.get("p1")!, "p1-accuracy", "x");
  assert.deepEqual(lengths, ["4", "8", "16", "32 L", "64 2L", "96 3L"]);
});

Deno.test("the target label of a convergence chart sits above the 100% line, where no curve can be", () => {
  for (const [p, page] of pages) {
    const label = Array.from(page.querySelectorAll(`#${p}-convergence text`)).find((t) =>
      t.textContent.startsWith("target ")
    );
    assert.ok(label !== undefined, `${p}: no target label`);
    // the label's baseline: its own y plus the mark group's offset (dy), bottom-anchored so nothing hangs below
    let y = translate(label)[1];
    for (let e = label.parentNode; e !== null && e.getAttribute !== undefined; e = e.parentNode) {
      if (e.getAttribute("aria-label") === "text") y += translate(e)[1];
    }
    assert.equal(label.getAttribute("y"), null, `${p}: the label hangs below its anchor`);
    const hundred = Array.from(page.querySelectorAll(`#${p}-convergence g[aria-label="y-axis tick label"] text`))
      .find((t) => t.textContent === "100%")!;
    assert.ok(y < translate(hundred)[1] - 2, `${p}: label baseline at ${y}, 100% at ${translate(hundred)[1]}`);
  }
});

/** A mamba run whose accuracy at each length is drawn around `p` with `samples` sequences. */
function noisyRun(seed: number, p: (length: number) => number, samples: number): RunResult {
  const run = fixtureRun({ model: "mamba", d: 8, M: 1, tau: 1, seed });
  const rng = mt19937(seed + 1);
  const accuracyByLength = run.accuracyByLength.map((point) => {
    const n = point.length % FIXTURE_L === 0 ? 4 * samples : samples;
    let correct = 0;
    for (let i = 0; i < n; i++) if (rng.double() < p(point.length)) correct++;
    return { length: point.length, accuracy: correct / n, samples: n };
  });
  return { ...run, accuracyByLength };
}

function seriesOf(runs: RunResult[]): Series {
  const [s] = groupSeries(runs);
  return s;
}

Deno.test("the binned summary pools lengths in log bins that never straddle L, and passes through L, 2L and 3L", () => {
  const step = (l: number) => (l <= FIXTURE_L ? 0.95 : 0.2); // a cliff right after L
  const s = seriesOf([0, 1, 2].map((seed) => noisyRun(seed, step, 256)));
  const bins = binnedCurve(s);
  for (const b of bins) assert.ok(b.to <= FIXTURE_L || b.from > FIXTURE_L, `${b.from}–${b.to} straddles L`);
  for (const k of [1, 2, 3]) {
    const exact = bins.find((b) => b.from === k * FIXTURE_L)!;
    assert.equal(exact.to, k * FIXTURE_L, `${k}L is a bin of its own`);
    const point = s.curve.find((c) => c.length === k * FIXTURE_L)!;
    assert.ok(Math.abs(exact.mean - point.mean) < 1e-12, `${k}L: ${exact.mean} vs ${point.mean}`);
    assert.equal(exact.min, point.min);
    assert.equal(exact.max, point.max);
  }
  const lengths = bins.flatMap((b) => s.curve.filter((c) => c.length >= b.from && c.length <= b.to));
  assert.equal(lengths.length, s.curve.length, "each length in exactly one bin");
  assert.deepEqual(bins.map((b) => b.length), [...bins.map((b) => b.length)].sort((a, b) => a - b));
  assert.ok(bins.length < s.curve.length / 2, `${bins.length} bins for ${s.curve.length} lengths`);
});

Deno.test("binning averages sampling noise away: the summary is closer to the true accuracy than each length", () => {
  const truth = 0.6;
  const s = seriesOf([noisyRun(7, () => truth, 64)]);
  const rms = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - truth) ** 2, 0) / xs.length);
  const beyond = (l: number) => l > FIXTURE_L && l % FIXTURE_L !== 0; // bins of several lengths
  const raw = rms(s.curve.filter((c) => beyond(c.length)).map((c) => c.mean));
  const binned = rms(binnedCurve(s).filter((b) => beyond(b.from)).map((b) => b.mean));
  assert.ok(raw > 0.04, `per-length noise ${raw}`);
  assert.ok(binned < 0.7 * raw, `binned ${binned} vs per length ${raw}`);
});

Deno.test("the seed band of the summary is the min–max over seeds of each seed's pooled accuracy", () => {
  const levels = [0.3, 0.5, 0.8];
  const s = seriesOf(levels.map((level, seed) => noisyRun(seed, () => level, 400)));
  for (const b of binnedCurve(s).filter((b) => b.to - b.from >= 5)) {
    assert.ok(Math.abs(b.min - 0.3) < 0.05 && Math.abs(b.max - 0.8) < 0.05, `${b.from}–${b.to}: ${b.min}–${b.max}`);
    assert.ok(Math.abs(b.mean - 1.6 / 3) < 0.05);
    assert.equal(b.seeds, 3);
  }
});

Deno.test("legend swatches, summary lines, per-length lines and bands of a setting share its colour", () => {
  for (const [p, page] of pages) {
    const legend = new Map(
      Array.from(page.querySelectorAll(`#${p}-accuracy ul.legend li`)).flatMap((li) => {
        const name = li.querySelectorAll(".name")[0]?.textContent;
        const swatch = li.querySelectorAll("line")[0]?.getAttribute("stroke");
        return name === undefined || swatch === undefined ? [] : [[name, swatch] as const];
      }),
    );
    assert.ok(legend.size > 0, p);
    const colourOf = (prefix: string, attr: string) =>
      Array.from(page.querySelectorAll(`#${p}-accuracy path[aria-label^="${prefix}"]`)).map((e) => {
        const label = e.getAttribute("aria-label")!.slice(prefix.length);
        const name = [...legend.keys()].find((n) => label === n || label.startsWith(`${n}, `));
        assert.ok(name !== undefined, `${p}: ${label} has no legend entry`);
        return [name, e.getAttribute(attr)] as const;
      });
    const drawn = [
      ...colourOf("accuracy line: ", "stroke"),
      ...colourOf("per-length accuracy: ", "stroke"),
      ...colourOf("seed band: ", "fill"),
    ];
    assert.ok(drawn.length >= 2 * legend.size, p);
    for (const [name, colour] of drawn) assert.equal(colour, legend.get(name), `${p}: ${name}`);
  }
});
