/**
 * The report's charts, rendered to static SVG with Observable Plot: accuracy against context length (log2 axis,
 * the training length L and chance 1/K marked, min-max bands over seeds) and test-batch accuracy against the
 * training step. Each chart comes as an HTML figure with its own legend, which also says in words which
 * settings diverged or stopped at the step cap. A model's lines always have its colour from the model table
 * (lib/models/model_table.ts); settings of one model told apart by another field (d, tau, ...) get lighter and
 * darker shades of that hue, shown in the legend's swatches (dashes are kept for runs that hit the step cap).
 *
 * Hooks for tests and readers: each accuracy line is an SVG path with aria-label "accuracy line: <name>", each
 * seed band "seed band: <name>", each training curve "training curve: <name>, seed <s>"; hovering any point
 * shows its numbers (SVG <title>).
 */
import { thinLog } from "./thin.ts";
import { collapsedText, endingOf, unfinishedTexts } from "./ending.ts";
import { Plot, renderPlot } from "./plot_dom.ts";
import { escapeHtml, fieldText, lengthText, listText, pct, seriesName, steps } from "./format.ts";
import { binnedCurve, BINS_PER_OCTAVE } from "./binned_curve.ts";
import { convergenceOf, fieldOf, type Series, type SettingField, valuesOf } from "./series.ts";
import { type ModelName, modelSpec } from "../models/model_table.ts";

/** Which series a chart shows and how it names and splits them. */
export interface ChartSpec {
  /** HTML id of the figure. */
  readonly id: string;
  readonly series: readonly Series[];
  /** Small multiples side by side, one per value of this field (null: a single panel). */
  readonly facet: SettingField | null;
  /** Fields named after the model in the legend, e.g. ["d"] gives "mamba (d = 8)". */
  readonly nameFields: readonly SettingField[];
  /** Caption under the chart (plain text). */
  readonly caption: string;
}

/** How far the shades of one model's settings go toward white (first setting) and black (last). */
const LIGHTEST = 0.45;
const DARKEST = 0.4;

/** `hex` (#rrggbb) mixed toward white (amount > 0) or black (amount < 0) by |amount| in [0, 1]. */
export function shadeOf(hex: string, amount: number): string {
  const target = amount > 0 ? 255 : 0, t = Math.abs(amount);
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${channels.map((c) => Math.round(c + (target - c) * t).toString(16).padStart(2, "0")).join("")}`;
}

const PANEL_WIDTH = 470;
const HEIGHT = 340;

interface Row {
  readonly key: string;
  readonly name: string;
  readonly facet: string | number;
  readonly x: number;
  readonly y: number;
  readonly lo: number;
  readonly hi: number;
  readonly title: string;
  readonly aria: string;
}

function facetOf(s: Series, spec: ChartSpec): string | number {
  return spec.facet === null ? "" : fieldOf(s, spec.facet);
}

function facetSuffix(s: Series, spec: ChartSpec): string {
  return spec.facet === null ? "" : `, ${fieldText(spec.facet, fieldOf(s, spec.facet))}`;
}

function nameOf(s: Series, spec: ChartSpec): string {
  return seriesName(s, spec.nameFields);
}

/**
 * Legend names in series order, each with its colour: the hue of its model's row in the model table, the same
 * on every page. When several names belong to one model (settings that differ in d, tau, ...), they get shades
 * of that hue, lightest for the first setting in series order (the smallest value) and darkest for the last.
 */
export function colorsOf(spec: Pick<ChartSpec, "series" | "nameFields">): Map<string, string> {
  const namesByModel = new Map<ModelName, string[]>();
  for (const s of spec.series) {
    const names = namesByModel.get(s.model) ?? [];
    const name = seriesName(s, spec.nameFields);
    if (!names.includes(name)) names.push(name);
    namesByModel.set(s.model, names);
  }
  const colors = new Map<string, string>();
  for (const s of spec.series) {
    const names = namesByModel.get(s.model)!;
    const name = seriesName(s, spec.nameFields), i = names.indexOf(name), n = names.length;
    const hue = modelSpec(s.model).color;
    colors.set(name, n === 1 ? hue : shadeOf(hue, LIGHTEST - (LIGHTEST + DARKEST) * i / (n - 1)));
  }
  return colors;
}

function isCapped(s: Series): boolean {
  return s.runs.some((r) => r.status === "cap");
}

function plotWidth(spec: ChartSpec): number {
  const panels = spec.facet === null ? 1 : valuesOf(spec.series, spec.facet).length;
  return Math.min(1000, Math.max(640, panels * PANEL_WIDTH));
}

function facetScale(spec: ChartSpec): Plot.ScaleOptions | undefined {
  const facet = spec.facet;
  if (facet === null) return undefined;
  return {
    domain: valuesOf(spec.series, facet),
    tickFormat: (v: string | number) => fieldText(facet, v),
    label: null,
    axis: "top",
    padding: 0.12,
  };
}

function percentTicks(v: number): string {
  return `${Math.round(v * 100)}%`;
}

/** The per-length points (mean over seeds), drawn as a light line under the summary, with their hover titles. */
function lengthRows(spec: ChartSpec): Row[] {
  const rows: Row[] = [];
  for (const s of spec.series) {
    const name = nameOf(s, spec);
    const seeds = s.evaluated.length;
    for (const p of s.curve) {
      const spread = seeds > 1 ? `\nmin–max over ${seeds} seeds: ${pct(p.min)}–${pct(p.max)}` : "";
      const ci = `\n95% Wilson interval ${pct(p.interval.lo)}–${pct(p.interval.hi)} (${p.samples} sequences${
        seeds > 1 ? `, ${seeds} seeds pooled` : ""
      })`;
      rows.push({
        key: s.id,
        name,
        facet: facetOf(s, spec),
        x: p.length,
        y: p.mean,
        lo: p.min,
        hi: p.max,
        title: `${name}${facetSuffix(s, spec)}\nlength ${lengthText(p.length, s.L)}: ${pct(p.mean)}${spread}${ci}`,
        aria: `per-length accuracy: ${name}${facetSuffix(s, spec)}`,
      });
    }
  }
  return rows;
}

/** The summary points: accuracy pooled in log₂ bins (binned_curve.ts), mean line and seed min–max band. */
function binnedRows(spec: ChartSpec): Row[] {
  const rows: Row[] = [];
  for (const s of spec.series) {
    const name = nameOf(s, spec);
    for (const b of binnedCurve(s)) {
      const where = b.from === b.to ? `length ${lengthText(b.from, s.L)}` : `lengths ${b.from}–${b.to}`;
      const spread = b.seeds > 1 ? ` (seeds ${pct(b.min)}–${pct(b.max)})` : "";
      rows.push({
        key: s.id,
        name,
        facet: facetOf(s, spec),
        x: b.length,
        y: b.mean,
        lo: b.min,
        hi: b.max,
        title: `${name}${facetSuffix(s, spec)}\n${where}: ${pct(b.mean)}${spread}, ${b.samples} sequences per seed`,
        aria: `accuracy line: ${name}${facetSuffix(s, spec)}`,
      });
    }
  }
  return rows;
}

/**
 * An x axis with a label on every tick. The scale's own axis would not do: on a log scale Plot passes the tick
 * format through d3's log tickFormat, which blanks ticks it finds too dense (500 and 5k between 200 and 1k, 2k
 * and 10k); an axis mark with a text channel labels each tick it is given.
 */
function labelledAxisX(ticks: readonly number[], text: (v: number) => string, label: string): Plot.Markish {
  return Plot.axisX(ticks, { text, label, labelAnchor: "center", labelArrow: "none" });
}

/** A step-axis tick: 500 -> "500", 5000 -> "5k", 20000 -> "20k", 1500000 -> "1.5M". */
export function stepTickText(v: number): string {
  if (v >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (v >= 1e3) return `${Math.round(v / 1e2) / 10}k`;
  return String(v);
}

/** Log-axis ticks at 1, 2 and 5 times the powers of ten within [lo, hi]. */
function stepTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let p = 1; p <= hi; p *= 10) for (const m of [1, 2, 5]) if (m * p >= lo && m * p <= hi) ticks.push(m * p);
  return ticks;
}

function lengthTicks(series: readonly Series[], lo: number, hi: number): number[] {
  const ticks = new Set<number>();
  for (let t = 1; t <= hi; t *= 2) if (t >= lo) ticks.add(t);
  const Ls = valuesOf(series, "L") as number[];
  if (Ls.length === 1) { for (const k of [1, 2, 3]) ticks.add(k * Ls[0]); }
  else ticks.add(hi);
  return [...ticks].sort((a, b) => a - b);
}

function lengthTickFormat(series: readonly Series[]): (v: number) => string {
  const Ls = valuesOf(series, "L") as number[];
  if (Ls.length !== 1) return (v) => String(v);
  const L = Ls[0];
  return (v) => (v === L ? `${v}\nL` : v === 2 * L ? `${v}\n2L` : v === 3 * L ? `${v}\n3L` : String(v));
}

/** What a legend says about one setting's seeds that diverged or hit the step cap (empty when all converged). */
function statusNotes(s: Series, divergedNote: string): string[] {
  const c = convergenceOf(s);
  const n = s.runs.length;
  const notes: string[] = [];
  if (c.diverged.length === n) {
    const at = c.diverged.map((r) => steps(r.divergedStep ?? r.stepsRun)).join(", ");
    notes.push(`${n === 1 ? "" : `all ${n} seeds `}diverged at step ${at}${divergedNote}`);
  } else if (c.diverged.length > 0) {
    notes.push(`${c.diverged.length} of ${n} seeds diverged (left out)`);
  }
  if (c.capped.length > 0) notes.push(`${unfinishedTexts(c.capped, n).join("; ")} (dashed)`);
  const fell = collapsedText(s.runs, n);
  if (fell !== null) notes.push(fell);
  return notes;
}

/**
 * One entry per legend name: swatch, name, and in words the seeds, caps and divergences behind it; a note true
 * in several panels is said once, naming the panels.
 */
interface LegendWords {
  /** What several seeds look like, e.g. "line = mean, band = min–max". */
  readonly seeds: string;
  /** Appended to "diverged at step N", e.g. ", no accuracy curve". */
  readonly diverged: string;
  /** How to read the lines, said once after the entries (none when absent). */
  readonly key?: string;
}

function legendHtml(spec: ChartSpec, colors: Map<string, string>, words: LegendWords): string {
  const items: string[] = [];
  const seedCounts = [...colors.keys()].map((name) =>
    Math.max(...spec.series.filter((s) => nameOf(s, spec) === name).map((s) => s.evaluated.length))
  );
  // When every setting has the same number of seeds, that is said once, at the end, not on every entry.
  const sameSeeds = new Set(seedCounts).size === 1 ? seedCounts[0] : null;
  for (const [name, color] of colors) {
    const members = spec.series.filter((s) => nameOf(s, spec) === name);
    const panels = new Map<string, string[]>();
    for (const s of members) {
      for (const note of statusNotes(s, words.diverged)) {
        const list = panels.get(note) ?? [];
        if (spec.facet !== null) list.push(fieldText(spec.facet, fieldOf(s, spec.facet)));
        panels.set(note, list);
      }
    }
    const notes: string[] = [];
    const seeds = Math.max(...members.map((s) => s.evaluated.length));
    if (seeds > 1 && sameSeeds === null) notes.push(`${seeds} seeds: ${words.seeds}`);
    for (const [note, where] of panels) {
      if (where.length === 0) notes.push(note);
      else if (where.length === members.length && members.length > 1) notes.push(`${note} in every panel`);
      else notes.push(`${listText(where)}: ${note}`);
    }
    const swatch =
      `<svg width="22" height="10" aria-hidden="true"><line x1="1" y1="5.5" x2="21" y2="5.5" stroke="${color}" ` +
      `stroke-width="2.5"/></svg>`;
    const note = notes.length > 0 ? ` <span class="note">— ${escapeHtml(notes.join("; "))}</span>` : "";
    items.push(`<li>${swatch} <span class="name">${escapeHtml(name)}</span>${note}</li>`);
  }
  const key = [
    sameSeeds !== null && sameSeeds > 1 ? `${sameSeeds} seeds each: ${words.seeds}.` : "",
    words.key ?? "",
  ].filter((x) => x !== "").join(" ");
  if (key !== "") items.push(`<li class="key">${escapeHtml(key)}</li>`);
  return `<ul class="legend">${items.join("")}</ul>`;
}

function figureHtml(spec: ChartSpec, kind: string, legend: string, svg: string): string {
  return `<figure class="chart ${kind}" id="${escapeHtml(spec.id)}">${legend}<div class="plot">${svg}</div>` +
    `<figcaption>${escapeHtml(spec.caption)}</figcaption></figure>`;
}

/**
 * Accuracy against context length, per setting: the measured accuracy at every length (mean over seeds) as a
 * thin light line, under a bold summary line of the same colour: accuracy pooled in log₂ bins (binned_curve.ts),
 * mean over seeds with the seeds' min–max band when there are several. The training length L is a vertical
 * rule and chance 1/K a dashed horizontal rule.
 */
export function accuracyChart(spec: ChartSpec): string {
  const colors = colorsOf(spec);
  const rows = lengthRows(spec);
  const binned = binnedRows(spec);
  const lo = Math.min(...spec.series.map((s) => s.tau + 2));
  const hi = Math.max(...spec.series.map((s) => 3 * s.L));
  const cappedIds = new Set(spec.series.filter(isCapped).map((s) => s.id));
  const multiSeed = new Set(spec.series.filter((s) => s.evaluated.length > 1).map((s) => s.id));
  const facets = spec.facet === null ? [""] : valuesOf(spec.series, spec.facet);
  const guides = facets.flatMap((facet) => {
    const inFacet = spec.series.filter((s) => facetOf(s, spec) === facet);
    return (valuesOf(inFacet, "L") as number[]).flatMap((L) =>
      (valuesOf(inFacet.filter((s) => s.L === L), "K") as number[]).map((K) => ({ facet, L, chance: 1 / K, lo }))
    );
  });
  const fx = spec.facet === null ? {} : { fx: "facet" };
  const svg = renderPlot({
    width: plotWidth(spec),
    height: HEIGHT,
    marginTop: spec.facet === null ? 24 : 30,
    marginLeft: 52,
    marginRight: 16,
    marginBottom: 52,
    style: { fontSize: "12px", overflow: "visible" },
    fx: facetScale(spec),
    x: { type: "log", base: 2, domain: [lo, hi] },
    y: { domain: [0, 1], grid: true, tickFormat: percentTicks, label: "accuracy", labelArrow: "none" },
    color: { domain: [...colors.keys()], range: [...colors.values()] },
    marks: [
      labelledAxisX(lengthTicks(spec.series, lo, hi), lengthTickFormat(spec.series), "context length (log₂ scale)"),
      Plot.frame({ stroke: "#d0d0d0", ...fx }),
      Plot.ruleY(guides, { y: "chance", stroke: "#777", strokeDasharray: "4 3", ...fx }),
      Plot.text(guides, {
        x: "lo",
        y: "chance",
        text: (g: { chance: number }) => `chance 1/K = ${pct(g.chance)}`,
        textAnchor: "start",
        dx: 4,
        dy: -7,
        fill: "#555",
        stroke: "white", // a halo: readable where it crosses a curve near chance
        strokeWidth: 3,
        ...fx,
      }),
      Plot.ruleX(guides, { x: "L", stroke: "#333", strokeWidth: 1, ...fx }),
      Plot.areaY(binned.filter((r) => multiSeed.has(r.key)), {
        x: "x",
        y1: "lo",
        y2: "hi",
        z: "key",
        fill: "name",
        fillOpacity: 0.16,
        ariaLabel: (r: Row) => `seed band: ${r.aria.slice("accuracy line: ".length)}`,
        ...fx,
      }),
      Plot.lineY(rows, {
        x: "x",
        y: "y",
        z: "key",
        stroke: "name",
        strokeWidth: 1,
        strokeOpacity: 0.35,
        ariaLabel: "aria",
        ...fx,
      }),
      Plot.lineY(binned.filter((r) => !cappedIds.has(r.key)), {
        x: "x",
        y: "y",
        z: "key",
        stroke: "name",
        strokeWidth: 2.25,
        ariaLabel: "aria",
        ...fx,
      }),
      Plot.lineY(binned.filter((r) => cappedIds.has(r.key)), {
        x: "x",
        y: "y",
        z: "key",
        stroke: "name",
        strokeWidth: 2.25,
        strokeDasharray: "6 3",
        ariaLabel: "aria",
        ...fx,
      }),
      Plot.dot(rows, { x: "x", y: "y", r: 3, fill: "name", fillOpacity: 0, title: "title", ...fx }),
      Plot.dot(binned, { x: "x", y: "y", r: 4, fill: "name", fillOpacity: 0, title: "title", ...fx }),
    ],
  });
  return figureHtml(
    spec,
    "accuracy",
    legendHtml(spec, colors, {
      seeds: "bold line = mean over seeds, band = their min–max",
      diverged: ", no accuracy curve",
      key: `Thin line: every measured length; bold line: neighbouring lengths pooled in 1/${BINS_PER_OCTAVE}-octave ` +
        `bins (L, 2L, 3L on their own).`,
    }),
    svg,
  );
}

/**
 * Test-batch accuracy (at length L) against the training step, one curve per run, log step axis; the target
 * as a dashed rule, a dot where each converged run first passed it and a cross where a run diverged.
 */
/** Checks drawn per octave of steps in a training curve, and the ones with a hover title (lib/site/thin.ts). */
const LINE_POINTS_PER_OCTAVE = 32;
const HOVER_POINTS_PER_OCTAVE = 6;

export function convergenceChart(spec: ChartSpec): string {
  const colors = colorsOf(spec);
  const rows: (Row & { hover: boolean })[] = [];
  const marks: { x: number; y: number; name: string; facet: string | number; title: string; kind: string }[] = [];
  for (const s of spec.series) {
    const name = nameOf(s, spec);
    for (const r of s.runs) {
      const label = `${name}${facetSuffix(s, spec)}, seed ${r.config.seed}`;
      const points = thinLog(
        r.history.filter((h) => Number.isFinite(h.accuracy) && h.step > 0),
        LINE_POINTS_PER_OCTAVE,
        (h) => h.step === r.convergedStep,
      );
      const hover = new Set(thinLog(points, HOVER_POINTS_PER_OCTAVE, (h) => h.step === r.convergedStep));
      const ending = r.status === "converged"
        ? `converged: ≥ ${pct(r.config.target)} from step ${steps(r.convergedStep ?? 0)}`
        : endingOf(r);
      for (const h of points) {
        rows.push({
          hover: hover.has(h),
          key: r.key,
          name,
          facet: facetOf(s, spec),
          x: h.step,
          y: h.accuracy,
          lo: h.accuracy,
          hi: h.accuracy,
          title: `${label}\nstep ${steps(h.step)}: ${pct(h.accuracy)} on the test batch, loss ${
            Number.isFinite(h.loss) ? h.loss.toFixed(3) : "not finite"
          }\n${ending}`,
          aria: `training curve: ${label}`,
        });
      }
      const at = r.status === "converged"
        ? points.find((h) => h.step === r.convergedStep)
        : r.status === "diverged"
        ? points[points.length - 1]
        : undefined;
      if (at !== undefined) {
        marks.push({
          x: at.step,
          y: at.accuracy,
          name,
          facet: facetOf(s, spec),
          title: `${label}: ${ending}`,
          kind: r.status,
        });
      }
    }
  }
  const target = Math.max(...spec.series.map((s) => s.runs[0].config.target));
  const facets = spec.facet === null ? [""] : valuesOf(spec.series, spec.facet);
  const maxStep = Math.max(1, ...rows.map((r) => r.x));
  const minStep = Math.min(maxStep, ...rows.map((r) => r.x));
  const guides = facets.map((facet) => ({ facet, target, maxStep }));
  const cappedRuns = new Set(spec.series.flatMap((s) => s.runs.filter((r) => r.status === "cap").map((r) => r.key)));
  const fx = spec.facet === null ? {} : { fx: "facet" };
  const svg = renderPlot({
    width: plotWidth(spec),
    height: HEIGHT,
    marginTop: spec.facet === null ? 24 : 30,
    marginLeft: 52,
    marginRight: 16,
    marginBottom: 42,
    style: { fontSize: "12px", overflow: "visible" },
    fx: facetScale(spec),
    x: { type: "log", domain: [minStep, Math.max(maxStep, minStep * 2)] },
    y: { domain: [0, 1], grid: true, tickFormat: percentTicks, label: "test-batch accuracy at L", labelArrow: "none" },
    color: { domain: [...colors.keys()], range: [...colors.values()] },
    marks: [
      labelledAxisX(stepTicks(minStep, Math.max(maxStep, minStep * 2)), stepTickText, "training step (log scale)"),
      Plot.frame({ stroke: "#d0d0d0", ...fx }),
      Plot.ruleY(guides, { y: "target", stroke: "#777", strokeDasharray: "4 3", ...fx }),
      // Above the frame's top edge (100%, which no curve can pass): the label never covers a curve.
      Plot.text(guides, {
        x: "maxStep",
        y: 1,
        text: (g: { target: number }) => `target ${pct(g.target)}`,
        textAnchor: "end",
        lineAnchor: "bottom",
        dy: -6,
        fill: "#555",
        ...fx,
      }),
      Plot.lineY(rows.filter((r) => !cappedRuns.has(r.key)), {
        x: "x",
        y: "y",
        z: "key",
        stroke: "name",
        strokeWidth: 1.75,
        ariaLabel: "aria",
        ...fx,
      }),
      Plot.lineY(rows.filter((r) => cappedRuns.has(r.key)), {
        x: "x",
        y: "y",
        z: "key",
        stroke: "name",
        strokeWidth: 1.75,
        strokeDasharray: "6 3",
        ariaLabel: "aria",
        ...fx,
      }),
      Plot.dot(rows.filter((r) => r.hover), {
        x: "x",
        y: "y",
        r: 4,
        fill: "name",
        fillOpacity: 0,
        title: "title",
        ...fx,
      }),
      Plot.dot(marks, {
        x: "x",
        y: "y",
        r: 4,
        symbol: (m: { kind: string }) => (m.kind === "diverged" ? "times" : "circle"),
        stroke: "name",
        fill: "white",
        strokeWidth: 2,
        title: "title",
        ...fx,
      }),
    ],
  });
  return figureHtml(
    spec,
    "convergence",
    legendHtml(spec, colors, { seeds: "one curve per seed", diverged: " (cross)" }),
    svg,
  );
}
