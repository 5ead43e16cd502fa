/**
 * When a run that has not converged is still improving: the rule that says how a finished run that did not converge
 * is described
 * ("still improving at N steps" or "not converged within N steps", lib/site/ending.ts), so a budget never
 * manufactures a negative result.
 */
import type { HistoryPoint } from "./record.ts";

/** How much (as a fraction: 0.02 = 2 points) the recent best must beat the earlier best to count as improving. */
export const IMPROVEMENT_MARGIN = 0.02;

/** The share of the checks that counts as "recent": the last fifth. */
const RECENT_SHARE = 1 / 5;

function finiteAccuracies(history: readonly HistoryPoint[]): number[] {
  return history.map((p) => p.accuracy).filter((a) => Number.isFinite(a));
}

/** How many of `n` checks are the recent ones: the last fifth, rounded up, at least one. */
export function recentCount(n: number): number {
  return Math.max(1, Math.ceil(n * RECENT_SHARE));
}

/**
 * Whether a run is still improving on the held-out test batch: the best accuracy of the last fifth of its checks
 * (rounded up, at least one check) beats the best of all the checks before them by at least `margin`
 * (default 2 points).
 *
 * Maxima on both sides make the rule robust to noise: a single lucky check early on raises the bar the recent
 * checks must clear, and a single bad recent check does not hide a rise. Edge cases: with fewer than two checks
 * there is nothing before the recent ones to compare with, so the run counts as still improving (there is no
 * evidence of a plateau, and a budget must not manufacture one); a flat history is not improving; checks with a
 * non-finite accuracy are ignored.
 */
export function stillImproving(history: readonly HistoryPoint[], margin: number = IMPROVEMENT_MARGIN): boolean {
  const acc = finiteAccuracies(history);
  if (acc.length < 2) return true;
  const split = acc.length - recentCount(acc.length);
  const before = Math.max(...acc.slice(0, split));
  const recent = Math.max(...acc.slice(split));
  return recent - before >= margin - 1e-12;
}
