import assert from "node:assert/strict";
import {
  capLinesPerPanel,
  colorScale,
  MAX_DOTTED_CHART_POINTS,
  MAX_LINES_PER_PANEL,
  MAX_TITLED_FIGURE_CELLS,
  probeHeatmaps,
  probeLineChart,
} from "../lib/site/probe_charts.ts";
import type { ProbeLine } from "../lib/site/probe_charts.ts";

const line = (name: string, facet: string, k: number): ProbeLine => ({
  name,
  facet,
  color: "#123456",
  points: [{ x: 1, y: k / 40 }, { x: 2, y: k / 40 + 0.01 }],
});

Deno.test("a panel holds at most six lines: a crowded facet is split, each model's lines kept together", () => {
  const lines = Array.from({ length: 30 }, (_, k) => line(`model ${Math.floor(k / 3)} (seed ${k % 3})`, "τ = 1", k))
    .map((l, k) => ({ ...l, name: `model ${Math.floor(k / 3)}` }));
  const capped = capLinesPerPanel(lines);
  const panels = new Map<string, ProbeLine[]>();
  for (const l of capped) panels.set(l.facet, [...(panels.get(l.facet) ?? []), l]);
  assert.equal(panels.size, 5);
  for (const [facet, ls] of panels) {
    assert.ok(ls.length <= MAX_LINES_PER_PANEL, `${facet}: ${ls.length} lines`);
    assert.match(facet, /^τ = 1 \(\d\/5\)$/);
  }
  for (let m = 0; m < 10; m++) {
    assert.equal(new Set(capped.filter((l) => l.name === `model ${m}`).map((l) => l.facet)).size, 1);
  }
  assert.deepEqual(capLinesPerPanel(lines.slice(0, 6)), lines.slice(0, 6), "six lines stay in one panel");
  const html = probeLineChart({ id: "x", lines, xLabel: "x", yLabel: "y", caption: "c" });
  assert.equal(html.match(/<div class="plot">/g)?.length, 2, "five panels, three a row: two rows");
});

Deno.test("a log heat map's colours span the bulk of the values, not a denormal and an outlier", () => {
  const values = [1.4e-45, ...Array.from({ length: 98 }, (_, k) => 0.01 * (1 + k / 10)), 281];
  const scale = colorScale({ scale: "log" }, values);
  const [lo, hi] = scale.domain as [number, number];
  assert.ok(lo >= 0.01 && hi <= 0.2, `domain ${lo}..${hi}`);
  assert.equal(scale.clamp, true);
  assert.deepEqual(colorScale({ scale: "unit" }, values).domain, [0, 1]);
});

Deno.test("hover numbers stay on small figures and are dropped from ones too large to carry them", () => {
  const lineOf = (n: number) => ({ ...line("m", "", 0), points: Array.from({ length: n }, (_, x) => ({ x, y: 0.5 })) });
  const titles = (html: string) => html.match(/<title>/g)?.length ?? 0;
  const small = probeLineChart({ id: "x", lines: [lineOf(10)], xLabel: "x", yLabel: "y", caption: "c" });
  assert.equal(titles(small), 10);
  const manyLines = Array.from({ length: Math.ceil(MAX_DOTTED_CHART_POINTS / 60) + 1 }, (_, k) => ({
    ...lineOf(60),
    facet: `f${Math.floor(k / 6)}`,
  }));
  assert.equal(titles(probeLineChart({ id: "x", lines: manyLines, xLabel: "x", yLabel: "y", caption: "c" })), 0);
  const heat = (panels: number) =>
    probeHeatmaps({
      id: "h",
      panels: Array.from({ length: panels }, (_, k) => ({
        title: `p${k}`,
        cells: Array.from({ length: 100 }, (_, c) => ({ x: c % 10, y: Math.floor(c / 10), v: c / 100 })),
      })),
      xLabel: "x",
      yLabel: "y",
      scale: "unit",
      panelWidth: 100,
      panelHeight: 100,
      valueText: String,
      caption: "c",
    });
  assert.equal(titles(heat(2)), 200);
  assert.equal(titles(heat(MAX_TITLED_FIGURE_CELLS / 100 + 1)), 0);
});
