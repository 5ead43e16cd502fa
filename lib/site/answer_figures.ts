/**
 * The figures the homework answers show, drawn so that no line stands for something no seed did:
 *
 * - `lengthFigure`: accuracy against test length. The first panel has one line per model and setting (a model in
 *   several settings, such as M = 4, 8, 16, gets one shade of its colour per setting), the mean over seeds,
 *   drawn solid only when the model's seeds agree (every seed converged, or none did, with accuracies at L within
 *   SPLIT_SPREAD); a model whose seeds split is dashed there and drawn seed by seed in a panel of its own. At most 6 lines a panel.
 * - `trainingFigure`: held-out accuracy against the training step, one panel per model, one line per seed, a dot
 *   where a seed first held 99%.
 *
 * Every caption states the budget and each model's recipe (lr, heads, initialisation), from the runs' own configs.
 * Legend entries carry `data-series` and the lines `data-series` too, so a page's few lines of script can toggle
 * them; without the script (PDF, no JavaScript) the figure is complete as printed.
 */
import { thinLog } from "./thin.ts";
import { accuracyAt, type RunResult } from "../store/results.ts";
import { Plot, renderPlot } from "./plot_dom.ts";
import { escapeHtml, fieldText, listText, pct, steps } from "./format.ts";
import { fieldOf, groupSeries, type Series, upToThreeL, varyingFields } from "./series.ts";
import { type ModelName, modelSpec } from "../models/model_table.ts";
import { shadeOf } from "./charts.ts";
import { partialLevel } from "./evidence.ts";

/** Seeds whose accuracies at L lie further apart than this are drawn one by one (a mean would hide the spread). */
export const SPLIT_SPREAD = 0.2;

/**
 * Whether a series' seeds split: some converged and some did not, or their accuracies at L lie more than
 * SPLIT_SPREAD apart (Problem 2's Mamba at M = 8: 7-69% with no seed converged).
 */
export function seedsSplit(s: Series): boolean {
  const k = s.runs.filter((r) => r.convergedStep !== null).length;
  if (k > 0 && k < s.runs.length) return true;
  const atL = s.runs.map((r) => accuracyAt(r, s.L)).filter((a): a is number => a !== null);
  return atL.length > 1 && Math.max(...atL) - Math.min(...atL) > SPLIT_SPREAD;
}

/** The colours of a split series' seeds, by seed, apart from the five models' hues (blue, orange, red, green, purple). */
const SEED_COLORS = ["#1b1b1b", "#17becf", "#8c564b", "#bcbd22", "#e377c2", "#7f7f7f"];

/** "lr 1e-3" style number: 0.00215 -> "2.15e-3", 0.01 -> "1e-2". */
function lrText(lr: number): string {
  const [m, e] = lr.toExponential().split("e");
  return `${Number(Number(m).toPrecision(3))}e${Number(e)}`;
}

/**
 * The budget and recipe sentence of a figure's caption, from the runs' configs. Where a model's settings differ in
 * learning rate, or the settings differ in budget, each value is named with the settings it belongs to.
 */
export function recipeCaption(runs: readonly RunResult[]): string {
  const batches = [...new Set(runs.map((r) => r.config.batch))];
  const inits = [...new Set(runs.map((r) => r.config.init))];
  const series = groupSeries(runs);
  const fields = varyingFields(series, ["model"]);
  const settingOf = (s: Series) => fields.map((f) => fieldText(f, fieldOf(s, f))).join(", ");
  /** The settings of `group`: one field's value where it alone tells them from `others` ("d = 8"), else each one. */
  const groupText = (group: readonly Series[], others: readonly Series[]) => {
    for (const f of fields) {
      const v = String(fieldOf(group[0], f));
      if (group.every((s) => String(fieldOf(s, f)) === v) && others.every((s) => String(fieldOf(s, f)) !== v)) {
        return fieldText(f, fieldOf(group[0], f));
      }
    }
    return group.map(settingOf).join("; ");
  };
  /** "X" when every series has the same value, else "X (its settings), Y (its settings)". */
  const byValue = (of: readonly Series[], value: (s: Series) => string) => {
    const values = [...new Set(of.map(value))];
    if (values.length === 1) return values[0];
    return listText(values.map((v) => {
      const group = of.filter((s) => value(s) === v);
      return `${v} (${groupText(group, of.filter((s) => value(s) !== v))})`;
    }));
  };
  const perModel = [...new Set(series.map((s) => s.model))].map((m) => {
    const mine = series.filter((s) => s.model === m);
    const heads = [...new Set(mine.flatMap((s) => s.runs.map((r) => r.config.heads)))].filter((h) => h > 0);
    return `${modelSpec(m).label}: lr ${byValue(mine, (s) => lrText(s.runs[0].config.lr))}${
      heads.length ? `, ${listText(heads.map(String))} heads` : ""
    }`;
  });
  const budgets = new Set(runs.map((r) => r.config.steps));
  const budget = budgets.size === 1
    ? `Every run trained ${steps([...budgets][0])} steps`
    : `Runs trained ${byValue(series, (s) => `${steps(s.runs[0].config.steps)} steps`)}`;
  return `${budget} at batch ${listText(batches.map(String))} (${
    inits.map((i) => i === "pytorch" ? "PyTorch's default initialisation" : `${i} initialisation`).join(", ")
  }). ${perModel.join("; ")}.`;
}

interface Line {
  readonly panel: string;
  readonly series: string;
  readonly x: number;
  readonly y: number;
  readonly dashed: boolean;
  readonly title: string;
}

function meanCurve(s: Series): { x: number; y: number }[] {
  return s.curve.map((p) => ({ x: p.length, y: p.mean }));
}

/**
 * Each series' name and colour: the model's label and colour, or, where a model comes in several settings (Problem
 * 2's M, Problem 3's d), the label with the settings that differ and a shade of the colour per setting.
 */
function seriesStyles(series: readonly Series[]): Map<Series, { name: string; color: string }> {
  const styles = new Map<Series, { name: string; color: string }>();
  for (const model of new Set(series.map((s) => s.model))) {
    const mine = series.filter((s) => s.model === model);
    const fields = varyingFields(mine, ["model"]);
    mine.forEach((s, i) => {
      const extra = fields.map((f) => fieldText(f, fieldOf(s, f)));
      styles.set(s, {
        name: extra.length === 0 ? modelSpec(model).label : `${modelSpec(model).label}, ${extra.join(", ")}`,
        color: shadeFor(model, i, mine.length),
      });
    });
  }
  return styles;
}

/** The i-th of n shades of a model's colour (its seeds, or its settings). */
function shadeFor(model: ModelName, i: number, n: number): string {
  const hue = modelSpec(model).color;
  return n <= 1 ? hue : shadeOf(hue, 0.45 - (0.85 * i) / (n - 1));
}

function legend(entries: readonly { name: string; color: string; dashed: boolean }[]): string {
  return `<ul class="legend">${
    entries.map((e) =>
      `<li data-series="${escapeHtml(e.name)}"><svg width="22" height="10"><line x1="1" y1="5" x2="21" y2="5" ` +
      `stroke="${e.color}" stroke-width="2.5"${e.dashed ? ' stroke-dasharray="5 3"' : ""}/></svg> ` +
      `<span class="name">${escapeHtml(e.name)}</span></li>`
    ).join("")
  }</ul>`;
}

function figure(id: string, legendHtml: string, svg: string, caption: string): string {
  return `<figure class="chart" id="${escapeHtml(id)}">${legendHtml}<div class="plot">${svg}</div>` +
    `<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

/** Accuracy against test length (τ+2 .. 3L) of `runs` (see the module comment). */
export function lengthFigure(id: string, runs: readonly RunResult[], what: string): string {
  const series = groupSeries(runs).filter((s) => s.evaluated.length > 0);
  if (series.length === 0) return `<p class="note-empty">No finished runs yet.</p>`;
  const lines: Line[] = [];
  const colors: { name: string; color: string; dashed: boolean }[] = [];
  const seedColors: typeof colors = [];
  const main = "every model, mean over seeds";
  const styles = seriesStyles(series);
  const oneModel = new Set(series.map((s) => s.model)).size === 1;
  for (const s of series) {
    const { name, color } = styles.get(s)!;
    const split = seedsSplit(s);
    colors.push({ name, color, dashed: split });
    for (const p of meanCurve(s)) {
      lines.push({ panel: main, series: name, x: p.x, y: p.y, dashed: split, title: `${name}: ${p.x}, ${pct(p.y)}` });
    }
    if (!split) continue;
    const converged = s.evaluated.filter((r) => r.convergedStep !== null).length;
    // One model in the figure: its panels are named by setting alone, which fits above a panel.
    const short = oneModel && name.includes(", ") ? name.slice(modelSpec(s.model).label.length + 2) : name;
    const panel = `${short}: ${converged} of ${s.evaluated.length} converged`;
    s.evaluated.forEach((r) => {
      // A seed has one colour and one legend entry in every panel: "seed 2" toggles seed 2 wherever it is drawn.
      const seedName = `seed ${r.config.seed}`;
      if (!seedColors.some((c) => c.name === seedName)) {
        seedColors.push({ name: seedName, color: SEED_COLORS[r.config.seed % SEED_COLORS.length], dashed: false });
      }
      for (const p of upToThreeL(r)) {
        lines.push({
          panel,
          series: seedName,
          x: p.length,
          y: p.accuracy,
          dashed: false,
          title: `${name}, ${seedName}${r.convergedStep === null ? " (not converged)" : ""}: ${p.length}, ${
            pct(p.accuracy)
          }`,
        });
      }
    });
  }
  colors.push(...seedColors);
  const panels = [...new Set(lines.map((l) => l.panel))];
  const L = series[0].L, K = series[0].K;
  const perRow = Math.min(3, panels.length);
  const fx = (d: { panel: string }) => panels.indexOf(d.panel) % perRow;
  const fy = (d: { panel: string }) => Math.floor(panels.indexOf(d.panel) / perRow);
  const svg = renderPlot({
    width: Math.min(1000, Math.max(640, 330 * perRow + 60)), // one panel alone is drawn wider
    height: 270 * Math.ceil(panels.length / perRow) + 40,
    marginTop: 30,
    x: { type: "log", base: 2, label: "test length →" },
    y: { domain: [0, 1], label: "↑ accuracy", tickFormat: "%" },
    fx: { label: null, axis: null },
    fy: { label: null, axis: null, padding: 0.2 },
    color: { domain: colors.map((c) => c.name), range: colors.map((c) => c.color) },
    marks: [
      Plot.frame({ stroke: "#d0d0d0" }),
      Plot.ruleX(panels.map((panel) => ({ panel, x: L })), { x: "x", fx, fy, stroke: "#333" }),
      Plot.ruleY(panels.map((panel) => ({ panel, y: 1 / K })), {
        y: "y",
        fx,
        fy,
        stroke: "#777",
        strokeDasharray: "4 3",
      }),
      ...[false, true].map((dashed) =>
        Plot.lineY(lines.filter((l) => l.dashed === dashed), {
          x: "x",
          y: "y",
          z: "series",
          fx,
          fy,
          stroke: "series",
          strokeWidth: 1.8,
          ...(dashed ? { strokeDasharray: "5 3" } : {}),
          ariaLabel: "series",
        })
      ),
      Plot.dot(lines, { x: "x", y: "y", fx, fy, r: 2.5, fill: "series", fillOpacity: 0, title: "title" }),
      Plot.text(panels.map((panel) => ({ panel })), {
        text: "panel",
        frameAnchor: "top-left",
        dy: -12,
        fontWeight: 600,
        fx,
        fy,
      }),
    ],
  });
  const counts = [...new Set(series.map((s) => s.runs.length))].sort((a, b) => b - a);
  const seeds = counts.length === 1
    ? `${counts[0]} seeds`
    : `its seeds (${counts.slice(0, -1).join(", ")} or ${counts[counts.length - 1]})`;
  const caption = `${what} Accuracy at every test length from τ+2 to 3L on fresh sequences, mean over ${seeds}; ` +
    `vertical line: the training length L = ${L}; dashed horizontal: chance 1/K = ${pct(1 / K)}. A model whose ` +
    `seeds split (some reached 99% on held-out sequences and some did not, or their accuracies at L lie more than ` +
    `${Math.round(100 * SPLIT_SPREAD)} points apart) is dashed in the first panel and drawn seed by seed beside it. ${
      recipeCaption(runs)
    }`;
  return figure(id, legend(colors), svg, caption);
}

/** Held-out accuracy at length L against the training step, one panel per model, one line per seed. */
export function trainingFigure(id: string, runs: readonly RunResult[], what: string): string {
  const series = groupSeries(runs);
  if (series.length === 0) return `<p class="note-empty">No finished runs yet.</p>`;
  const lines: (Line & { seed: number })[] = [];
  const hits: { panel: string; x: number; y: number; series: string; title: string }[] = [];
  const colors: { name: string; color: string; dashed: boolean }[] = [];
  const styles = seriesStyles(series);
  // One model in several settings (Problem 2's M): its panels name the setting, and a seed has one colour and one
  // legend entry across them. Several models: each panel's seeds in shades of its model's colour.
  const oneModel = new Set(series.map((s) => s.model)).size === 1 && series.length > 1;
  for (const s of series) {
    const panel = styles.get(s)!.name;
    s.runs.forEach((r, i) => {
      const name = oneModel ? `seed ${r.config.seed}` : `${panel}, seed ${r.config.seed}`;
      if (!colors.some((c) => c.name === name)) {
        const color = oneModel ? SEED_COLORS[r.config.seed % SEED_COLORS.length] : shadeFor(s.model, i, s.runs.length);
        colors.push({ name, color, dashed: false });
      }
      for (const h of thinLog(r.history.filter((p) => p.step > 0), 32, (p) => p.step === r.convergedStep)) {
        lines.push({
          panel,
          series: name,
          seed: r.config.seed,
          x: h.step,
          y: h.accuracy,
          dashed: false,
          title: `${panel}, seed ${r.config.seed}: step ${steps(h.step)}, ${pct(h.accuracy)}`,
        });
      }
      const c = r.convergedStep;
      if (c !== null) {
        hits.push({
          panel,
          series: name,
          x: c,
          y: r.history.find((h) => h.step === c)?.accuracy ?? 0.99,
          title: `${panel}, seed ${r.config.seed}: 99% from step ${steps(c)}`,
        });
      }
    });
  }
  const panels = [...new Set(lines.map((l) => l.panel))];
  const perRow = 3;
  // With M > 1 queries, the accuracy of k answered and the rest guessed: where a run that learns its queries one at
  // a time rests (evidence.ts, partialLevel).
  const levels = series.flatMap((s) => {
    const { M, K } = s.runs[0].config;
    return Array.from({ length: Math.max(0, M - 1) }, (_, k) => ({
      panel: styles.get(s)!.name,
      y: partialLevel(k + 1, M, K),
    }));
  });
  const svg = renderPlot({
    width: 1000,
    height: 230 * Math.ceil(panels.length / perRow) + 40,
    x: { type: "log", label: "training step (log scale) →", tickFormat: "~s" },
    y: { domain: [0, 1], label: "↑ held-out accuracy at L", tickFormat: "%" },
    fx: { label: null, axis: null },
    fy: { label: null, axis: null },
    color: { domain: colors.map((c) => c.name), range: colors.map((c) => c.color) },
    marks: [
      Plot.frame({ stroke: "#d0d0d0" }),
      Plot.ruleY([0.99], { stroke: "#777", strokeDasharray: "4 3" }),
      Plot.ruleY(levels, {
        y: "y",
        stroke: "#bbb",
        strokeDasharray: "1 3",
        fx: (d: { panel: string }) => panels.indexOf(d.panel) % perRow,
        fy: (d: { panel: string }) => Math.floor(panels.indexOf(d.panel) / perRow),
      }),
      Plot.lineY(lines, {
        x: "x",
        y: "y",
        z: "series",
        stroke: "series",
        strokeWidth: 1.4,
        fx: (d: Line) => panels.indexOf(d.panel) % perRow,
        fy: (d: Line) => Math.floor(panels.indexOf(d.panel) / perRow),
        ariaLabel: "series",
      }),
      Plot.dot(hits, {
        x: "x",
        y: "y",
        fill: "series",
        r: 4,
        title: "title",
        fx: (d: { panel: string }) => panels.indexOf(d.panel) % perRow,
        fy: (d: { panel: string }) => Math.floor(panels.indexOf(d.panel) / perRow),
      }),
      Plot.text(panels, {
        text: (d: string) => d,
        frameAnchor: "top-left",
        dx: 6,
        dy: 4,
        fx: (d: string) => panels.indexOf(d) % perRow,
        fy: (d: string) => Math.floor(panels.indexOf(d) / perRow),
      }),
    ],
  });
  const r0 = runs[0].config;
  const caption = `${what} Accuracy on a fixed held-out batch of ${r0.testBatch} sequences at L, checked every ` +
    `${r0.checkEvery} steps (drawn at up to 32 checks per doubling of the step, each as measured); a dot marks the first of ${r0.patience} consecutive checks at 99% or more (the step ` +
    `this report calls convergence); dashed: 99%.` +
    (levels.length > 0
      ? ` Dotted: the accuracy of a model that answers k of the M queries and guesses among the ${r0.K} tokens on the ` +
        `rest, (k + (M − k)/${r0.K})/M for k = 1 .. M − 1.`
      : "") +
    ` ${recipeCaption(runs)}`;
  return figure(id, legend(colors), svg, caption);
}
