import assert from "node:assert/strict";
import { capLinesPerPanel, colorScale, MAX_LINES_PER_PANEL, probeLineChart } from "../lib/site/probe_charts.ts";
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
