/**
 * When a finding may say that one series beats another: the one rule every ranking and effect sentence uses.
 * A difference at a length is claimed only when the two Wilson 95% intervals (all seeds' sequences pooled) do not
 * overlap and, with at least two seeds in common, it also holds for every seed (each one higher). The seeds are
 * the replication: pooled intervals measure only the evaluation's sampling noise and must not outvote a seed that
 * disagrees (10.7-99.2% against 76.7-99.5% pools to intervals far apart); and a seed-by-seed order by less than
 * that noise (77.2 vs 76.7%, 100 vs 99.5%) is not a difference either. Otherwise the sentence says why it does
 * not claim it ("higher on 2 of 3 seeds", "higher on every seed, within the intervals", "intervals overlap").
 */
import { overlaps } from "../stats/wilson.ts";
import { pct } from "./format.ts";
import { type CurvePoint, pointAt, type Series } from "./series.ts";

/** What the numbers of two series at one length support. */
export interface Comparison {
  /** "a" or "b" when that one is higher and the rule allows the claim, "tie" otherwise. */
  readonly winner: "a" | "b" | "tie";
  /** The higher of the two by mean (a on equal means). */
  readonly higher: "a" | "b";
  /** Seeds the two have in common, and on how many of them the higher one is strictly higher. */
  readonly seeds: number;
  readonly seedsHigher: number;
  readonly overlap: boolean;
  readonly a: CurvePoint;
  readonly b: CurvePoint;
}

/** Compare two curve points (each with its seeds and pooled interval) by the rule above. */
export function comparePoints(a: CurvePoint, b: CurvePoint): Comparison {
  const higher = b.mean > a.mean ? "b" : "a";
  const [hi, lo] = higher === "a" ? [a, b] : [b, a];
  const common = hi.seeds.filter((s) => lo.seeds.some((t) => t.seed === s.seed));
  const seedsHigher = common.filter((s) => s.accuracy > lo.seeds.find((t) => t.seed === s.seed)!.accuracy).length;
  const overlap = overlaps(a.interval, b.interval);
  const supported = !overlap && (common.length < 2 || seedsHigher === common.length);
  const winner = hi.mean > lo.mean && supported ? higher : "tie";
  return { winner, higher, seeds: common.length, seedsHigher, overlap, a, b };
}

/** Compare two series at the evaluated length nearest `length`; null when either has no curve. */
export function compareAt(a: Series, b: Series, length: number): Comparison | null {
  const pa = pointAt(a, length), pb = pointAt(b, length);
  return pa === null || pb === null ? null : comparePoints(pa, pb);
}

/**
 * Why a difference is not claimed, e.g. "mamba higher on 2 of 3 seeds", "mamba higher on every seed, within the
 * intervals" or "intervals overlap" (one seed), naming the higher one by `names` [a's, b's]; null when the
 * comparison does claim it.
 */
export function caveatOf(c: Comparison, names: readonly [string, string]): string | null {
  if (c.winner !== "tie") return null;
  if (c.a.mean === c.b.mean) return "equal means";
  const name = c.higher === "a" ? names[0] : names[1];
  if (c.seeds < 2) return "intervals overlap";
  return c.seedsHigher < c.seeds
    ? `${name} higher on ${c.seedsHigher} of ${c.seeds} seeds`
    : `${name} higher on every seed, within the intervals`;
}

/** "72.3% (95% CI 70.3–74.2%)": a curve point's mean with its pooled Wilson interval. */
export function withInterval(p: CurvePoint): string {
  return `${pct(p.mean)} (95% CI ${pct(p.interval.lo).slice(0, -1)}–${pct(p.interval.hi)})`;
}
