/** The arithmetic mean. */

/** The mean of `xs`, or null for an empty list. */
export function mean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}
