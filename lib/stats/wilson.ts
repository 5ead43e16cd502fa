/**
 * The Wilson score interval for a binomial proportion: where the true accuracy of a model lies, given that it
 * got `successes` of `n` test sequences right. Unlike the normal approximation it stays inside [0, 1] and is
 * not degenerate at 0% or 100%.
 */

/** The two-sided 95% normal quantile. */
export const Z95 = 1.959963984540054;

/** A closed interval [lo, hi] inside [0, 1]. */
export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

/** The Wilson score interval of `successes` out of `n` at normal quantile `z` (95% by default). */
export function wilsonInterval(successes: number, n: number, z: number = Z95): Interval {
  if (!(n > 0) || successes < 0 || successes > n) {
    throw new Error(`wilsonInterval: need 0 <= successes <= n and n > 0, got ${successes} of ${n}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Whether two intervals share any point. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}
