/**
 * When a finding may say that one series beats another: the one rule every ranking and effect sentence uses.
 * With at least two seeds in common, a difference at a length is claimed only when it holds for every seed (each
 * one higher): the seeds are the replication, and pooled Wilson intervals, which measure only the evaluation's
 * sampling noise, must not outvote a seed that disagrees (10.7-99.2% against 76.7-99.5% pools to intervals far
 * apart). With fewer seeds in common (a screen's one seed), it is claimed when the two Wilson 95% intervals do
 * not overlap. Otherwise the sentence says why it does not claim it ("higher on 2 of 3 seeds", "intervals
 * overlap").
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
  const supported = common.length >= 2 ? seedsHigher === common.length : !overlap;
  const winner = hi.mean > lo.mean && supported ? higher : "tie";
  return { winner, higher, seeds: common.length, seedsHigher, overlap, a, b };
}

/** Compare two series at the evaluated length nearest `length`; null when either has no curve. */
export function compareAt(a: Series, b: Series, length: number): Comparison | null {
  const pa = pointAt(a, length), pb = pointAt(b, length);
  return pa === null || pb === null ? null : comparePoints(pa, pb);
}

/**
 * Why a difference is not claimed, e.g. "mamba higher on 2 of 3 seeds" (several seeds) or "intervals overlap"
 * (one seed), naming the higher one by `names` [a's, b's]; null when the comparison does claim it.
 */
export function caveatOf(c: Comparison, names: readonly [string, string]): string | null {
  if (c.winner !== "tie") return null;
  if (c.a.mean === c.b.mean) return "equal means";
  const name = c.higher === "a" ? names[0] : names[1];
  return c.seeds >= 2 ? `${name} higher on ${c.seedsHigher} of ${c.seeds} seeds` : "intervals overlap";
}

/** "72.3% (95% CI 70.3–74.2%)": a curve point's mean with its pooled Wilson interval. */
export function withInterval(p: CurvePoint): string {
  return `${pct(p.mean)} (95% CI ${pct(p.interval.lo).slice(0, -1)}–${pct(p.interval.hi)})`;
}
