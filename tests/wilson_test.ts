import assert from "node:assert/strict";
import { overlaps, wilsonInterval } from "../lib/stats/wilson.ts";

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 5e-5, `${what}: ${actual} != ${expected}`);
}

Deno.test("the Wilson 95% interval matches published values", () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II, method 3 (Wilson score
  // without continuity correction), to the 4 decimals printed there.
  const cases: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [k, n, lo, hi] of cases) {
    const w = wilsonInterval(k, n);
    near(w.lo, lo, `${k}/${n} lo`);
    near(w.hi, hi, `${k}/${n} hi`);
  }
});

Deno.test("the interval is symmetric around one half and never leaves [0, 1]", () => {
  const w = wilsonInterval(5, 10);
  near(w.lo + w.hi, 1, "symmetric");
  near(wilsonInterval(10, 10).hi, 1, "10 of 10");
  assert.ok(wilsonInterval(0, 10).lo === 0 && wilsonInterval(0, 10).hi > 0.27);
});

Deno.test("the interval narrows with more sequences: 2048 at 50% is about ±2.2 points, 256 about ±6", () => {
  const big = wilsonInterval(1024, 2048), small = wilsonInterval(128, 256);
  near(big.hi - big.lo, 2 * 0.021633, "2048");
  assert.ok(small.hi - small.lo > 0.12 && small.hi - small.lo < 0.123);
});

Deno.test("impossible counts are refused", () => {
  assert.throws(() => wilsonInterval(3, 2), /0 <= successes <= n/);
  assert.throws(() => wilsonInterval(0, 0), /n > 0/);
});

Deno.test("intervals overlap when they share a point", () => {
  assert.equal(overlaps({ lo: 0.1, hi: 0.3 }, { lo: 0.3, hi: 0.5 }), true);
  assert.equal(overlaps({ lo: 0.1, hi: 0.29 }, { lo: 0.3, hi: 0.5 }), false);
});
