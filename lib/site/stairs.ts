/**
 * Staircases in a training history: multi-query recall is often learned one query at a time, so the held-out
 * accuracy sits on flat stretches at the levels "k of the M queries answered, the rest guessed at chance",
 * k/M + (1 − k/M)/K, and rises between them. Finding the stretches tells a run that stopped on a stair (others
 * rose out of stretches as long) from one whose plateau outlasts every stair seen.
 */
import type { HistoryPoint } from "../training/record.ts";
import { mean } from "../stats/mean.ts";

/**
 * One stretch of a history between rises: its first and last check's step, its mean (smoothed) accuracy, the
 * mean of its second half minus that of its first (a stair is flat; a steady climb drifts), and whether a rise
 * ended it.
 */
export interface Stretch {
  readonly from: number;
  readonly to: number;
  readonly level: number;
  readonly drift: number;
  readonly rose: boolean;
}

/** Checks averaged before stretches are found (the held-out batch's accuracy is noisy by a couple of points). */
const SMOOTHING = 5;

/** The accuracy of k of M queries answered and the others guessed among K values: k/M + (1 − k/M)/K. */
export function stairLevel(k: number, M: number, K: number): number {
  return k / M + (1 - k / M) / K;
}

/** The rise that ends a stretch: half of one query's share of the accuracy, (1 − 1/K)/(2M), and at least 3 points. */
export function riseFor(M: number, K: number): number {
  return Math.max((1 - 1 / K) / (2 * M), 0.03);
}

function smoothed(acc: readonly number[]): number[] {
  return acc.map((_, i) => {
    const lo = Math.max(0, i - SMOOTHING + 1);
    return mean(acc.slice(lo, i + 1)) as number;
  });
}

/**
 * The flat stretches of a history: a stretch ends when the smoothed accuracy exceeds the stretch's mean so far by
 * `rise`; the last stretch (rose false) runs to the last check. Checks with a non-finite accuracy are skipped.
 */
export function stretchesOf(history: readonly HistoryPoint[], rise: number): Stretch[] {
  const points = history.filter((p) => Number.isFinite(p.accuracy));
  if (points.length === 0) return [];
  const acc = smoothed(points.map((p) => p.accuracy));
  const stretch = (start: number, end: number, rose: boolean): Stretch => {
    // After a rise the first checks still climb (the jump's tail, and the smoothing's lag), and before one the
    // last checks already do: leave both out of the level.
    const n = end - start;
    const head = start === 0 ? 0 : Math.min(2 * SMOOTHING, Math.floor(n / 3));
    const tail = rose ? Math.min(SMOOTHING, Math.floor(n / 3)) : 0;
    const part = acc.slice(start + head, end - tail), half = Math.floor(part.length / 2);
    const avg = (v: readonly number[]) => mean(v) ?? 0;
    const drift = half === 0 ? 0 : avg(part.slice(part.length - half)) - avg(part.slice(0, half));
    return { from: points[start].step, to: points[end - 1].step, level: avg(part), drift, rose };
  };
  const out: Stretch[] = [];
  let start = 0, sum = acc[0];
  for (let i = 1; i < acc.length; i++) {
    if (acc[i] >= sum / (i - start) + rise) {
      out.push(stretch(start, i, true));
      start = i;
      sum = acc[i];
    } else {
      sum += acc[i];
    }
  }
  out.push(stretch(start, acc.length, false));
  return out;
}

/** Whether a stretch is a stair of k of M queries: at least `minSteps` long, flat (drift within half a rise), at a
 * stair level. */
export function isStair(s: Stretch, M: number, K: number, minSteps: number): boolean {
  return lengthOf(s) >= minSteps && Math.abs(s.drift) <= riseFor(M, K) / 2 && stairIndex(s.level, M, K) !== null;
}

/** A stretch's length in steps. */
export function lengthOf(s: Stretch): number {
  return s.to - s.from;
}

/** The k whose stair level is within `tolerance` of `level`, for 1 <= k < M; null when none is. */
export function stairIndex(level: number, M: number, K: number, tolerance = 0.03): number | null {
  for (let k = 1; k < M; k++) if (Math.abs(stairLevel(k, M, K) - level) <= tolerance) return k;
  return null;
}
