/**
 * Where wrong answers come from (the probe's `wrongOffsets`, lib/probes/probe_run.ts): per setting, the share of wrong
 * answers at L equal to the token o = 1..20 positions after the first query, mean over the seeds probed, against the
 * chance level 1/(K-1) per offset. A peak at o = tau means the model found the query and fetched the value with the
 * wrong timing rarely; a peak at another offset, a misjudged delay; a flat line at chance, that it did not find the
 * query. Small multiples, one panel per setting, one line each.
 */
import type { ProbeResult } from "../probes/probe_run.ts";
import type { RunResult } from "../store/results.ts";
import { Plot, renderPlot } from "./plot_dom.ts";
import { escapeHtml, pct } from "./format.ts";
import { groupSeries } from "./series.ts";
import { modelSpec } from "../models/model_table.ts";
import { emptyPart, type Part } from "./view.ts";

interface Point {
  readonly panel: string;
  readonly offset: number;
  readonly share: number;
  readonly color: string;
  readonly title: string;
}

/** The points of the chart: per setting with probes, the mean share at each offset over its probed seeds. */
export function wrongOffsetPoints(runs: readonly RunResult[], probes: ReadonlyMap<string, ProbeResult>): Point[] {
  return groupSeries(runs).flatMap((s) => {
    const found = s.runs.flatMap((r) => probes.get(r.key)?.wrongOffsets ?? []);
    if (found.length === 0) return [];
    const panel = `${s.model}, τ = ${s.tau}${s.M > 1 ? `, M = ${s.M}` : ""}${s.d !== 8 ? `, d = ${s.d}` : ""}`;
    return found[0].offsets.map((offset, k) => {
      const share = found.reduce((a, w) => a + w.share[k], 0) / found.length;
      return {
        panel,
        offset,
        share,
        color: modelSpec(s.model).color,
        title: `${panel}: offset ${offset}, ${pct(share)} of wrong answers (${found.length} seeds)`,
      };
    });
  });
}

/** The chart as a part of a page, or a note when no run was probed yet. */
export function wrongOffsetsPart(
  id: string,
  runs: readonly RunResult[],
  probes: ReadonlyMap<string, ProbeResult>,
): Part {
  const title = "Where wrong answers come from";
  const points = wrongOffsetPoints(runs, probes);
  if (points.length === 0) {
    return emptyPart(
      id,
      title,
      "No run has this probe yet: deno task probe computes it for runs whose L leaves 20 tokens after the first query.",
    );
  }
  const panels = [...new Set(points.map((p) => p.panel))];
  const K = runs[0].config.K;
  const columns = 4;
  const svg = renderPlot({
    width: 1000,
    height: 170 * Math.ceil(panels.length / columns) + 40,
    x: { label: "offset after the first query →", domain: [0, 21] },
    y: { label: "↑ share of wrong answers", tickFormat: "%", domain: [0, 1] },
    fx: { axis: null },
    fy: { axis: null },
    marks: [
      Plot.frame({ stroke: "#d0d0d0" }),
      Plot.ruleY([1 / (K - 1)], { stroke: "#777", strokeDasharray: "4 3" }),
      Plot.lineY(points, {
        x: "offset",
        y: "share",
        z: "panel",
        stroke: "color",
        fx: (d: Point) => panels.indexOf(d.panel) % columns,
        fy: (d: Point) => Math.floor(panels.indexOf(d.panel) / columns),
      }),
      Plot.dot(points, {
        x: "offset",
        y: "share",
        r: 2,
        fill: "color",
        title: "title",
        fx: (d: Point) => panels.indexOf(d.panel) % columns,
        fy: (d: Point) => Math.floor(panels.indexOf(d.panel) / columns),
      }),
      Plot.text(panels, {
        text: (d: string) => d,
        frameAnchor: "top-right",
        dx: -6,
        dy: 4,
        fx: (d: string) => panels.indexOf(d) % columns,
        fy: (d: string) => Math.floor(panels.indexOf(d) / columns),
      }),
    ],
  });
  const caption = `For each setting, the share of its wrong answers at L that equal the token o positions after the ` +
    `first query (o = 1..20), mean over the seeds probed; dashed: chance, 1/(K-1) = ${pct(1 / (K - 1))} per offset.`;
  return {
    id,
    title,
    chart: () =>
      `<figure class="chart" id="${escapeHtml(id)}"><div class="plot">${svg}</div><figcaption>${
        escapeHtml(caption)
      }</figcaption></figure>`,
    findings: [],
    note: null,
  };
}
