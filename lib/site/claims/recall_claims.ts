/**
 * Claims for multi-query recall (M > 1): whether the d = 8 Transformer fails by capacity or by method (the
 * d = 64 control), and how the three architectures compare at each M under the one comparison rule
 * (lib/site/comparison.ts: every seed, beyond the intervals).
 */
import { mean } from "../../stats/mean.ts";
import type { Claim } from "../answers.ts";
import { accuracyAtMultiple, architectureOf, type Evidence, pctRange, seedsOf, valuesOver } from "../evidence.ts";
import { HOLD } from "../findings.ts";
import { caveatOf, compareAt } from "../comparison.ts";
import type { Series } from "../series.ts";
import { fieldText, pct } from "../format.ts";

function accAtL(e: Evidence, s: Series): number[] {
  return valuesOver(seedsOf(e, s), (x) => accuracyAtMultiple(x, 1));
}

function solved(e: Evidence, s: Series): boolean {
  const v = accAtL(e, s);
  return v.length > 0 && v.every((x) => x >= HOLD);
}

/** How many of the series' seeds reach HOLD at L, of how many. */
function solvedOn(e: Evidence, s: Series): { readonly n: number; readonly of: number } {
  const v = accAtL(e, s);
  return { n: v.filter((x) => x >= HOLD).length, of: v.length };
}

/** The attention model at d = 8 against the same model at a larger width, at each M. */
export const capacityClaim: Claim = (e) => {
  const attn = e.series.filter((s) => architectureOf(s) === "attention" && s.M > 1);
  const ds = [...new Set(attn.map((s) => s.d))].sort((a, b) => a - b);
  if (ds.length < 2) return [];
  const narrow = ds[0], wide = ds[ds.length - 1];
  return [...new Set(attn.map((s) => s.M))].sort((a, b) => a - b).flatMap((M) => {
    const a = attn.find((s) => s.M === M && s.d === narrow), b = attn.find((s) => s.M === M && s.d === wide);
    if (a === undefined || b === undefined || accAtL(e, a).length === 0 || accAtL(e, b).length === 0) return [];
    const at = `at ${fieldText("M", M)}: ${pctRange(accAtL(e, a))} at L with d = ${narrow}, ${
      pctRange(accAtL(e, b))
    } with d = ${wide}`;
    const name = e.name(a, ["d", "M"]);
    if (solved(e, a)) return [`${name} ${at}: d = ${narrow} already suffices.`];
    const some = solvedOn(e, a);
    if (solved(e, b) && some.n > 0) {
      return [
        `${name} ${at}: d = ${narrow} can hold the solution (${some.n} of ${some.of} seeds reach ` +
        `${pct(HOLD)}), but training finds it on only ${some.n} of ${some.of}, while every seed at d = ${wide} ` +
        `does: width makes the solution easier to find, rather than possible at all.`,
      ];
    }
    if (solved(e, b)) {
      return [
        `${name} ${at}: the same architecture and training method solve it at d = ${wide}, so at d = ${narrow} ` +
        `it fails by capacity — ${M} queries, K = ${a.K} values and their positions must be told apart in ` +
        `${narrow}-dimensional attention scores.`,
      ];
    }
    return [
      `${name} ${at}: not solved at either width within the budget, so width alone is not the limit here.`,
    ];
  });
};

/** At each M: the d = 8 architectures ranked at L by the comparison rule. */
export const architecturesClaim: Claim = (e) => {
  const narrowD = Math.min(...e.series.map((s) => s.d));
  const base = e.series.filter((s) => s.d === narrowD && s.M > 1 && s.evaluated.length > 0);
  return [...new Set(base.map((s) => s.M))].sort((a, b) => a - b).flatMap((M) => {
    const group = base.filter((s) => s.M === M).sort((a, b) => (mean(accAtL(e, b)) ?? 0) - (mean(accAtL(e, a)) ?? 0));
    if (group.length < 2) return [];
    const nm = (x: Series) => e.name(x, ["M"]);
    let text = `${nm(group[0])} ${pct(mean(accAtL(e, group[0])) ?? 0)}`;
    const caveats: string[] = [];
    for (let i = 1; i < group.length; i++) {
      const c = compareAt(group[i - 1], group[i], group[i].L);
      const names = [nm(group[i - 1]), nm(group[i])] as const;
      const caveat = c === null ? "no curve" : caveatOf(c, names);
      if (caveat !== null) caveats.push(`${names[0]} vs ${names[1]}: ${caveat}`);
      text += ` ${caveat === null ? ">" : "then"} ${nm(group[i])} ${pct(mean(accAtL(e, group[i])) ?? 0)}`;
    }
    return [
      `At ${fieldText("M", M)}, accuracy at L: ${text}${caveats.length === 0 ? "" : ` (${caveats.join("; ")})`}.`,
    ];
  });
};
