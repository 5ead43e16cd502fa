/**
 * The induction-heads table in the style of the Mamba paper (Gu & Dao 2023, Table 2): accuracy per model at
 * lengths L/4, L/2, L, 2L and 3L (16, 32, 64, 128, 192 at L = 64), mean over seeds with the min–max, and a
 * sentence setting it beside the paper's numbers, with the order claimed only where the comparison rule
 * (lib/site/comparison.ts) allows it.
 */
import type { Part } from "./view.ts";
import { architectureOf, configOf, type Evidence } from "./evidence.ts";
import { caveatOf, comparePoints } from "./comparison.ts";
import { escapeHtml, pct } from "./format.ts";
import { pointAt, type Series } from "./series.ts";

/** The multiples of L the table shows. */
export const PAPER_MULTIPLES = [0.25, 0.5, 1, 2, 3] as const;

/** The paper's numbers the sentence quotes (Gu & Dao 2023, Table 2: trained at 256, tested up to 2^20). */
export const PAPER = { trainLength: 256, mamba: 1, ropeAt2x: 0.836, ropeAt4x: 0.313, absoluteAt2x: 0.586 } as const;

function cell(s: Series, length: number): string {
  const p = pointAt(s, length);
  if (p === null || p.length !== length) return "—";
  return p.seeds.length > 1 ? `${pct(p.mean)} (${pct(p.min).slice(0, -1)}–${pct(p.max)})` : pct(p.mean);
}

/** The table's lengths for training length L (evaluated lengths only start at τ+2). */
export function paperLengths(L: number): number[] {
  return PAPER_MULTIPLES.map((k) => Math.round(k * L));
}

/** The table as HTML (one row per series, in the given order). */
export function paperTableHtml(e: Evidence, series: readonly Series[]): string {
  const L = series[0].L;
  const lengths = paperLengths(L);
  const head = lengths.map((l, k) => `<th>${l}${PAPER_MULTIPLES[k] === 1 ? " (L)" : ""}</th>`).join("");
  const rows = series.map((s) =>
    `<tr><th scope="row">${escapeHtml(e.name(s))}</th>${
      lengths.map((l) => `<td>${escapeHtml(cell(s, l))}</td>`).join("")
    }</tr>`
  ).join("");
  return `<figure class="paper-table"><table><thead><tr><th>model</th>${head}</tr></thead><tbody>${rows}</tbody></table>` +
    `<figcaption>Accuracy by test length after training at L = ${L} (mean over seeds, min–max in brackets), ` +
    `laid out like Table 2 of the Mamba paper (which trains at ${PAPER.trainLength}).</figcaption></figure>`;
}

function find(series: readonly Series[], test: (s: Series) => boolean): Series | undefined {
  return series.find(test);
}

/** The sentence comparing the table at 2L with the paper at 2×. */
export function paperSentence(e: Evidence, series: readonly Series[]): string | null {
  const mamba = find(series, (s) => architectureOf(s) === "mamba");
  const rope = find(series, (s) => architectureOf(s) === "attention" && configOf(s).pe === "rope");
  const abs = find(series, (s) => architectureOf(s) === "attention" && configOf(s).pe === "learned");
  if (mamba === undefined || rope === undefined || abs === undefined) return null;
  const L = mamba.L;
  const at2 = (s: Series) => pointAt(s, 2 * L);
  const m = at2(mamba), r = at2(rope), a = at2(abs);
  if (m === null || r === null || a === null) return null;
  const order = (x: typeof m, y: typeof m, names: readonly [string, string]): string => {
    const c = comparePoints(x, y);
    if (c.winner === "a") return "holds";
    if (c.winner === "b") return "is reversed";
    return `is not clear (${caveatOf(c, names)})`;
  };
  const mr = order(m, r, [e.name(mamba), e.name(rope)]);
  const ra = order(r, a, [e.name(rope), e.name(abs)]);
  const exact = m.seeds.filter((x) => x.accuracy >= 0.99).length;
  return `The paper trains at ${PAPER.trainLength} and tests up to 2^20: Mamba stays at ${pct(PAPER.mamba)}, ` +
    `attention with RoPE falls to ${pct(PAPER.ropeAt2x)} at 2× and ${pct(PAPER.ropeAt4x)} at 4×, attention with ` +
    `absolute positions to ${pct(PAPER.absoluteAt2x)} at 2×. Here at 2L = ${2 * L}: ${e.name(mamba)} ${pct(m.mean)} ` +
    `(≥ 99% on ${exact} of ${m.seeds.length} seed${m.seeds.length === 1 ? "" : "s"}), ${e.name(rope)} ${pct(r.mean)}, ${
      e.name(abs)
    } ${pct(a.mean)}. The paper's order Mamba > RoPE ${mr} here; RoPE > absolute ${ra}.`;
}

/** The table and its sentence as a page part, or null without the series it needs. */
export function paperPart(id: string, e: Evidence, series: readonly Series[]): Part | null {
  if (series.length === 0) return null;
  const sentence = paperSentence(e, series);
  return {
    id,
    title: "The Mamba paper's induction-heads table, here",
    chart: () => paperTableHtml(e, series),
    findings: sentence === null ? [] : [{ heading: null, sentences: [sentence] }],
    note: null,
  };
}
