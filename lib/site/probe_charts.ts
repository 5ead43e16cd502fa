/**
 * The probes' figures (lib/probes/), rendered to static SVG with Observable Plot: heat maps with the cell
 * mark (attention aligned on the first query, the final query's row, Mamba step sizes, accuracy by length and
 * first-query position) and line charts (accuracy by query distance and by query token, attention scores
 * against length, retention against distance). Heat maps come as small multiples, one small SVG per panel in
 * a wrapping row, so a page stays readable with many runs. Every point of a line of at most 64 points, and every
 * cell of a map of at most 300 cells, has a <title> with its number, unless the figure as a whole is too large for
 * that (MAX_DOTTED_CHART_POINTS, MAX_TITLED_FIGURE_CELLS).
 *
 * Hooks for tests: each line is a path with aria-label "probe line: <name>", each heat-map panel an SVG inside
 * a div with class "panel" and a title line.
 */
import { Plot, renderPlot } from "./plot_dom.ts";
import { escapeHtml } from "./format.ts";

/** One line of a line chart: its name (legend and colour), points, and the facet it belongs to. */
export interface ProbeLine {
  readonly name: string;
  readonly color: string;
  readonly facet: string;
  readonly points: readonly { x: number; y: number }[];
}

export interface LineChartSpec {
  readonly id: string;
  readonly lines: readonly ProbeLine[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** y domain; default [0, 1] shown as percentages. */
  readonly yDomain?: [number, number];
  readonly percent?: boolean;
  /** x ticks and their labels (default: Plot's own ticks). */
  readonly xTicks?: readonly { readonly x: number; readonly label: string }[];
  /** Vertical guide rules per facet (e.g. the training length L). */
  readonly rules?: readonly { facet: string; x: number; label: string }[];
  readonly caption: string;
}

function legendHtml(lines: readonly ProbeLine[]): string {
  const seen = new Map<string, string>();
  for (const l of lines) if (!seen.has(l.name)) seen.set(l.name, l.color);
  return `<ul class="legend">${
    [...seen].map(([name, color]) =>
      `<li><svg width="22" height="10" aria-hidden="true"><line x1="1" y1="5.5" x2="21" y2="5.5" stroke="${color}" ` +
      `stroke-width="2.5"/></svg> <span class="name">${escapeHtml(name)}</span></li>`
    ).join("")
  }</ul>`;
}

function figure(id: string, kind: string, inner: string, caption: string): string {
  return `<figure class="chart probe ${kind}" id="${escapeHtml(id)}">${inner}<figcaption>${
    escapeHtml(caption)
  }</figcaption></figure>`;
}

/** Lines of more points than this are drawn without a hover dot per point. */
export const MAX_DOTTED_POINTS = 64;
/**
 * A chart of more points than this in all draws no hover dots at all: Problem 1's distance chart (50 runs, three
 * lengths) had 4,560 dots with a title each, a quarter of its probe page.
 */
export const MAX_DOTTED_CHART_POINTS = 1500;
/** A heat-map figure of more cells than this in all its panels draws no hover titles (50 small maps: 8,500). */
export const MAX_TITLED_FIGURE_CELLS = 2000;

/** At most this many lines share a panel: more cannot be told apart. */
export const MAX_LINES_PER_PANEL = 6;
/** Panels per row of a line figure. */
const PANELS_PER_ROW = 3;

/**
 * `lines` with every facet of more than MAX_LINES_PER_PANEL lines split into panels "facet (i/n)", keeping the lines
 * of one name together (a name with more lines than the cap gets a panel of its own).
 */
export function capLinesPerPanel(lines: readonly ProbeLine[]): ProbeLine[] {
  const facets = [...new Set(lines.map((l) => l.facet))];
  return facets.flatMap((facet) => {
    const mine = lines.filter((l) => l.facet === facet);
    if (mine.length <= MAX_LINES_PER_PANEL) return mine;
    const groups: ProbeLine[][] = [];
    for (const name of new Set(mine.map((l) => l.name))) {
      const named = mine.filter((l) => l.name === name);
      const last = groups.at(-1);
      if (last !== undefined && last.length + named.length <= MAX_LINES_PER_PANEL) last.push(...named);
      else groups.push([...named]);
    }
    return groups.flatMap((group, i) =>
      group.map((l) => ({ ...l, facet: `${facet === "" ? "" : `${facet} `}(${i + 1}/${groups.length})` }))
    );
  });
}

/** Lines over x with one panel per facet (in first-seen order), at most 6 lines a panel and 3 panels a row. */
export function probeLineChart(spec: LineChartSpec): string {
  const lines: ProbeLine[] = [];
  const from = new Map<string, string>(); // panel drawn -> the facet it was split from (the one rules name)
  for (const facet of new Set(spec.lines.map((l) => l.facet))) {
    for (const l of capLinesPerPanel(spec.lines.filter((x) => x.facet === facet))) {
      lines.push(l);
      from.set(l.facet, facet);
    }
  }
  const facets = [...new Set(lines.map((l) => l.facet))];
  const dots = lines.reduce((n, l) => n + l.points.length, 0) <= MAX_DOTTED_CHART_POINTS;
  const rows: string[] = [];
  for (let i = 0; i < facets.length; i += PANELS_PER_ROW) {
    const row = facets.slice(i, i + PANELS_PER_ROW);
    const rules = (spec.rules ?? []).flatMap((r) =>
      row.filter((panel) => from.get(panel) === r.facet).map((panel) => ({ ...r, facet: panel }))
    );
    rows.push(lineRow(spec, lines.filter((l) => row.includes(l.facet)), row, facets.length > 1, rules, dots));
  }
  return figure(
    spec.id,
    "lines",
    `${legendHtml(lines)}${rows.map((svg) => `<div class="plot">${svg}</div>`).join("")}`,
    spec.caption,
  );
}

/** One row of panels of a line figure. */
function lineRow(
  spec: LineChartSpec,
  lines: readonly ProbeLine[],
  facets: readonly string[],
  faceted: boolean,
  rules: readonly { facet: string; x: number; label: string }[],
  dots: boolean,
): string {
  const rows = lines.flatMap((l) =>
    l.points.map((p) => ({
      ...p,
      dotted: dots && l.points.length <= MAX_DOTTED_POINTS,
      key: `${l.facet}|${l.name}|${lines.indexOf(l)}`,
      name: l.name,
      facet: l.facet,
      title: `${l.name}${l.facet === "" ? "" : `, ${l.facet}`}\n${spec.xLabel} ${p.x}: ${
        spec.percent === false ? p.y.toPrecision(3) : `${(100 * p.y).toFixed(1)}%`
      }`,
      aria: `probe line: ${l.name}${l.facet === "" ? "" : `, ${l.facet}`}`,
    }))
  );
  const colors = new Map(lines.map((l) => [l.name, l.color]));
  const fx = faceted ? { fx: "facet" } : {};
  return renderPlot({
    width: Math.min(1000, Math.max(640, facets.length * 330)),
    height: 300,
    marginTop: faceted ? 30 : 16,
    marginLeft: 52,
    marginRight: 16,
    marginBottom: 42,
    style: { fontSize: "12px", overflow: "visible" },
    fx: faceted ? { domain: facets, label: null, axis: "top", padding: 0.1 } : undefined,
    x: {
      label: spec.xLabel,
      labelAnchor: "center",
      labelArrow: "none",
      ...(spec.xTicks === undefined ? {} : {
        ticks: spec.xTicks.map((t) => t.x),
        tickFormat: (v: number) => spec.xTicks!.find((t) => t.x === v)?.label ?? String(v),
      }),
    },
    y: {
      domain: spec.yDomain ?? [0, 1],
      grid: true,
      label: spec.yLabel,
      labelArrow: "none",
      tickFormat: spec.percent === false ? undefined : (v: number) => `${Math.round(v * 100)}%`,
    },
    color: { domain: [...colors.keys()], range: [...colors.values()] },
    marks: [
      Plot.frame({ stroke: "#d0d0d0", ...fx }),
      Plot.ruleX(rules, { x: "x", stroke: "#333", ...fx }),
      Plot.text(rules, { x: "x", text: "label", frameAnchor: "top", dx: 4, dy: 4, textAnchor: "start", ...fx }),
      Plot.lineY(rows, { x: "x", y: "y", z: "key", stroke: "name", strokeWidth: 2, ariaLabel: "aria", ...fx }),
      // hover dots on lines of up to MAX_DOTTED_POINTS points; a dot with a title per point of a 190-point line
      // per run was most of a probe page's weight
      Plot.dot(rows.filter((r) => r.dotted), { x: "x", y: "y", r: 3, fill: "name", title: "title", ...fx }),
    ],
  });
}

/** One heat-map panel: cells at (x, y) with a value (null: no data, left blank). */
export interface HeatPanel {
  readonly title: string;
  readonly cells: readonly { x: number; y: number | string; v: number | null }[];
  /** Cells to outline (e.g. the first query, the value). */
  readonly marks?: readonly { x: number; y: number | string }[];
}

export interface HeatSpec {
  readonly id: string;
  readonly panels: readonly HeatPanel[];
  readonly xLabel: string;
  readonly yLabel: string;
  /** Colour scale: "unit" for weights and accuracies in [0, 1], "log" for step sizes. */
  readonly scale: "unit" | "log";
  readonly panelWidth: number;
  readonly panelHeight: number;
  /** Show the y tick labels (false when there are too many rows to read). */
  readonly yTicks?: boolean;
  /** How a cell's value reads in its title. */
  readonly valueText: (v: number) => string;
  readonly caption: string;
}

/**
 * The colour scale of a heat map. Step sizes run over many decades and a few cells (a denormal near 0, one huge
 * outlier) would stretch a min..max scale until every other cell shares one colour, so the log scale spans the 2nd
 * to 98th percentile of the positive values and clamps the rest to its ends (the caption says so).
 */
export function colorScale(spec: Pick<HeatSpec, "scale">, values: readonly number[]): Plot.ScaleOptions {
  if (spec.scale === "unit") return { type: "linear", scheme: "blues", domain: [0, 1] };
  const pos = values.filter((v) => v > 0 && Number.isFinite(v)).sort((a, b) => a - b);
  if (pos.length === 0) return { type: "log", scheme: "viridis", domain: [1e-3, 1], clamp: true };
  const at = (q: number) => pos[Math.min(pos.length - 1, Math.max(0, Math.round(q * (pos.length - 1))))];
  const lo = at(0.02), hi = at(0.98);
  return { type: "log", scheme: "viridis", domain: [lo, Math.max(hi, lo * 1.01)], clamp: true };
}

/** The printed page's room for one figure's panels (CSS px; letter paper with the print margins of page.ts). */
const PRINT_WIDTH = 700;
const PRINT_HEIGHT = 840;
/** Heat-map panels are printed at this zoom (page.ts print styles), so more of them share a page. */
export const PANEL_PRINT_ZOOM = 0.8;

/** How many panels fit on one printed page: a figure holds at most this many, so it never spans pages. */
export function panelsPerPage(spec: Pick<HeatSpec, "panelWidth" | "panelHeight">): number {
  const width = PANEL_PRINT_ZOOM * (spec.panelWidth + 18 + 10); // svg + its right margin
  const height = PANEL_PRINT_ZOOM * (spec.panelHeight + 44); // + a title of up to two lines and the margin
  return Math.max(1, Math.floor(PRINT_WIDTH / width)) * Math.max(1, Math.floor(PRINT_HEIGHT / height));
}

/** A heat map with more cells than this draws them without a hover title each (the colour bar gives the scale). */
export const MAX_TITLED_CELLS = 300;

/**
 * Heat maps as small multiples on one colour scale, with its legend above them. Many panels are split over
 * several figures of at most a printed page each (ids <id>, <id>-2, ...), each with the colour bar and a
 * caption, so on paper every figure lies on one page with its legend; the first has the full caption.
 */
export function probeHeatmaps(spec: HeatSpec): string {
  const values = spec.panels.flatMap((p) => p.cells.flatMap((c) => (c.v === null ? [] : [c.v])));
  const color = colorScale(spec, values);
  const legend = legendSvg(color, spec.valueText);
  const titledFigure = values.length <= MAX_TITLED_FIGURE_CELLS;
  const panels = spec.panels.map((p) => {
    const kept = p.cells.filter((c) => c.v !== null);
    // Hover values on small maps only: a title per cell on the large ones made Problem 1's probe page 5 MB.
    const titled = titledFigure && kept.length <= MAX_TITLED_CELLS;
    const cells = !titled ? kept : kept.map((c) => ({
      ...c,
      title: `${c.x}, ${c.y}: ${spec.valueText(c.v!)}`, // (x, y) in the caption's words: kept short, cells are many
    }));
    const svg = renderPlot({
      width: spec.panelWidth + 18,
      height: spec.panelHeight,
      marginTop: 8,
      marginLeft: spec.yTicks === false ? 16 : 58, // room for tick labels like "L1 h3" and the axis label
      marginRight: 8,
      marginBottom: 34,
      padding: 0,
      style: { fontSize: "10px" },
      x: { type: "band", label: spec.xLabel, labelAnchor: "center", labelArrow: "none", ticks: tickValues(p) },
      y: {
        type: "band",
        label: spec.yTicks === false ? null : spec.yLabel,
        labelArrow: "none",
        axis: spec.yTicks === false ? null : "left",
      },
      color,
      marks: [
        Plot.cell(cells, {
          x: "x",
          y: "y",
          fill: "v",
          ...(titled ? { title: "title" } : {}),
          inset: 0,
        }),
        Plot.cell(p.marks ?? [], { x: "x", y: "y", stroke: "#d62728", strokeWidth: 1, fill: "none" }),
      ],
    });
    // As wide as its map: a long title wraps instead of widening the panel (panelsPerPage counts on it).
    return `<div class="panel" style="display:inline-block;vertical-align:top;margin:0 10px 10px 0;` +
      `width:${spec.panelWidth + 18}px">` +
      `<div style="font-size:12px;font-weight:600">${escapeHtml(p.title)}</div>${svg}</div>`;
  });
  const size = panelsPerPage(spec);
  const figures: string[] = [];
  for (let from = 0; from < panels.length; from += size) {
    const to = Math.min(panels.length, from + size);
    const part = panels.length <= size ? "" : ` (Panels ${from + 1}–${to} of ${panels.length}.)`;
    const caption = from === 0
      ? `${spec.caption}${part}`
      : `Continued from the figure above, on the same colour scale.${part}`;
    const id = from === 0 ? spec.id : `${spec.id}-${from / size + 1}`;
    figures.push(figure(id, "heatmap", `${legend}<div class="plot">${panels.slice(from, to).join("")}</div>`, caption));
  }
  return figures.join("");
}

/** About 9 ticks per panel, each labelled (the other columns get no tick, rather than an unlabelled one). */
function tickValues(p: HeatPanel): number[] {
  const xs = [...new Set(p.cells.map((c) => c.x))];
  const step = Math.max(1, Math.ceil(xs.length / 9));
  return xs.filter((_, i) => i % step === 0);
}

/** A small horizontal colour bar: the scale's range in 40 steps with end labels. */
function legendSvg(color: Plot.ScaleOptions, text: (v: number) => string): string {
  const [lo, hi] = color.domain as [number, number];
  const steps = 40;
  const log = color.type === "log";
  const at = (k: number) => (log ? lo * Math.pow(hi / lo, k / (steps - 1)) : lo + (hi - lo) * k / (steps - 1));
  const bar = Array.from({ length: steps }, (_, k) => ({ k, v: at(k) }));
  const svg = renderPlot({
    width: 280,
    height: 40,
    marginTop: 2,
    marginLeft: 8,
    marginRight: 8,
    marginBottom: 22,
    style: { fontSize: "11px" },
    x: { type: "band", axis: null, padding: 0 },
    y: { axis: null },
    color,
    marks: [
      Plot.cell(bar, { x: "k", fill: "v", inset: 0 }),
      Plot.text([0, steps - 1], {
        x: (k: number) => k,
        text: (k: number) => text(at(k)),
        frameAnchor: "bottom",
        dy: 14,
        textAnchor: "middle",
      }),
    ],
  });
  return `<div class="colorbar" aria-label="colour scale">${svg}</div>`;
}
