/**
 * The state-size study's chart (studies/state/study.ts): how many of the M queries a Mamba run answers at L (the
 * per-query probe, `accuracy.byQuery`: a query counts when answered at QUERY_LEARNED or more) against the numbers of
 * state a layer carries per sequence (e x n, e = expansion x d channels of n numbers each), and against the trainable
 * parameters. One panel per M, a dot per seed, a line through each family's per-setting means: the state size n varied
 * at e/d = 2 and at e/d = 4 (d = 8), and the width d varied at the default state (n = 16, e/d = 2; the d = 8 point is
 * the same runs as the first family's n = 16). If the state is what limits Mamba at M = 8 and 16, the queries learned
 * rise with the state numbers along every family alike (zoology's finding for recurrent models on associative recall:
 * the state must grow with the number of pairs); if the width matters beyond its state, the d family rises faster.
 */
import type { ProbeResult } from "../probes/probe_run.ts";
import type { RunResult } from "../store/results.ts";
import { resolve } from "../training/config.ts";
import { Plot, renderPlot } from "./plot_dom.ts";
import { escapeHtml, pct, steps } from "./format.ts";
import { emptyPart, type Part } from "./view.ts";

/** A query counts as learned at this per-query accuracy at L (Problem 2's answers use the same bar). */
export const QUERY_LEARNED = 0.8;

/** One seed's point: its family, the two x readings and the queries it answers. */
export interface StatePoint {
  readonly M: number;
  readonly family: string;
  readonly state: number;
  readonly params: number;
  readonly queries: number;
  readonly seed: number;
  readonly title: string;
}

/** Each family's colour: greens for the state size varied (light e/d = 2, dark e/d = 4), blue for the width. */
function familyColor(family: string): string {
  if (family.startsWith("d varied")) return "#4269d0";
  return family.endsWith("e/d = 2") ? "#3ca951" : "#1b6b32";
}

/** The families of a run: the state size varied at its e/d (d = 8), and the width varied (n = 16, e/d = 2). */
function familiesOf(c: { d: number; expand: number; stateSize: number }): string[] {
  const out: string[] = [];
  if (c.d === 8) out.push(`n varied, e/d = ${c.expand}`);
  if (c.stateSize === 16 && c.expand === 2) out.push("d varied, n = 16, e/d = 2");
  return out;
}

/** Every probed run's points (one per family it belongs to); runs without a per-query probe at L are left out. */
export function statePoints(runs: readonly RunResult[], probes: ReadonlyMap<string, ProbeResult>): StatePoint[] {
  return runs.flatMap((r) => {
    const c = resolve(r.config);
    const atL = probes.get(r.key)?.accuracy.byQuery.find((q) => q.length === c.L);
    if (atL === undefined) return [];
    const queries = atL.accuracy.filter((a) => a >= QUERY_LEARNED).length;
    const state = c.mambaInner * c.mambaState;
    const name = `M = ${c.M}, d = ${c.d}, n = ${c.mambaState}, e/d = ${c.mambaInner / c.d}, seed ${c.seed}`;
    return familiesOf({ d: c.d, expand: c.mambaInner / c.d, stateSize: c.mambaState }).map((family) => ({
      M: c.M,
      family,
      state,
      params: r.paramCount,
      queries,
      seed: c.seed,
      title: `${name}: ${queries} of ${c.M} queries at ≥ ${pct(QUERY_LEARNED)}; ${steps(state)} state numbers a ` +
        `layer, ${steps(r.paramCount)} parameters`,
    }));
  });
}

/** Per family, M and x, the mean queries over seeds: the lines through the dots. */
function means(points: readonly StatePoint[], x: "state" | "params"): (StatePoint & { mean: number })[] {
  const groups = new Map<string, StatePoint[]>();
  for (const p of points) {
    const k = `${p.M}|${p.family}|${p[x]}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  return [...groups.values()]
    .map((g) => ({ ...g[0], mean: g.reduce((a, p) => a + p.queries, 0) / g.length }))
    .sort((a, b) => a[x] - b[x]);
}

function chart(id: string, points: readonly StatePoint[], x: "state" | "params"): string {
  const families = [...new Set(points.map((p) => p.family))].sort();
  const Ms = [...new Set(points.map((p) => p.M))].sort((a, b) => a - b);
  const fx = (d: { M: number }) => Ms.indexOf(d.M);
  const svg = renderPlot({
    width: 1000,
    height: 320,
    marginTop: 30,
    x: {
      type: "log",
      base: 2,
      label: x === "state" ? "state numbers per layer, e × n (log scale) →" : "trainable parameters (log scale) →",
    },
    y: { label: "↑ queries answered at L", domain: [0, Math.max(...Ms)] },
    fx: { axis: null },
    color: { domain: families, range: families.map(familyColor) },
    marks: [
      Plot.frame({ stroke: "#d0d0d0" }),
      Plot.ruleY(Ms.map((M) => ({ M })), { y: "M", fx, stroke: "#777", strokeDasharray: "4 3" }),
      Plot.dot(points, { x, y: "queries", stroke: "family", fx, r: 3, title: "title" }),
      Plot.lineY(means(points, x), { x, y: "mean", stroke: "family", z: (d: StatePoint) => `${d.M}${d.family}`, fx }),
      Plot.text(Ms.map((M) => ({ M })), {
        text: (d: { M: number }) => `M = ${d.M} (dashed: all ${d.M} queries)`,
        frameAnchor: "top-left",
        dy: -14,
        fontWeight: 600,
        fx,
      }),
    ],
  });
  const caption =
    `Queries a run answers at L (per-query accuracy at least ${pct(QUERY_LEARNED)}) against ${
      x === "state"
        ? "the numbers of state a Mamba layer carries per sequence (e × n: e = expansion × d channels of n numbers)"
        : "its trainable parameters (the fixed embedding not counted)"
    }; a dot per seed, lines through each family's means. Green: the state size n varied at d = 8 (light e/d = 2, ` +
    `dark e/d = 4); blue: the width d varied at n = 16, e/d = 2. Zoology (Arora et al., 2023) found that a recurrent ` +
    `model needs a state that grows with the number of key-value pairs to recall; here the families say whether ` +
    `state numbers alone buy queries, or width buys more than its state.`;
  return `<figure class="chart" id="${escapeHtml(id)}"><div class="plot">${svg}</div><figcaption>${
    escapeHtml(caption)
  }</figcaption></figure>`;
}

/** The study's two charts as page parts, or a note while no run has its per-query probe. */
export function stateParts(runs: readonly RunResult[], probes: ReadonlyMap<string, ProbeResult>): Part[] {
  const points = statePoints(runs, probes);
  const titles = ["Queries learned against state size", "Queries learned against parameters"];
  if (points.length === 0) {
    return [
      emptyPart("state-queries", titles[0], "No run has its per-query probe yet (deno task probe --problem state)."),
    ];
  }
  return (["state", "params"] as const).map((x, i) => ({
    id: `state-queries-${x}`,
    title: titles[i],
    chart: () => chart(`state-queries-${x}`, points, x),
    findings: [],
    note: null,
  }));
}
