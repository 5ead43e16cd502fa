import assert from "node:assert/strict";
import { recentCount, stillImproving } from "../lib/training/plateau.ts";
import type { HistoryPoint } from "../lib/training/record.ts";

/** A history with one check every 50 steps at the given accuracies. */
function checks(...accuracies: number[]): HistoryPoint[] {
  return accuracies.map((accuracy, i) => ({ step: 50 * (i + 1), loss: 1, accuracy }));
}

Deno.test("the recent checks are the last fifth, rounded up, never none", () => {
  assert.deepEqual([1, 2, 4, 5, 6, 10, 11].map(recentCount), [1, 1, 1, 1, 2, 2, 3]);
});

Deno.test("a run with fewer than two checks counts as still improving: there is no evidence of a plateau", () => {
  assert.equal(stillImproving([]), true);
  assert.equal(stillImproving(checks(0.1)), true);
});

Deno.test("a flat history is not improving", () => {
  assert.equal(stillImproving(checks(0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4)), false);
});

Deno.test("a steadily rising history is still improving", () => {
  assert.equal(stillImproving(checks(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)), true);
});

Deno.test("a rise of less than 2 points over the earlier best is a plateau, 2 points or more is improving", () => {
  assert.equal(stillImproving(checks(0.5, 0.5, 0.5, 0.5, 0.515)), false);
  assert.equal(stillImproving(checks(0.5, 0.5, 0.5, 0.5, 0.52)), true);
});

Deno.test("noise: one lucky early check raises the bar, one bad recent check does not hide a rise", () => {
  // Noisy around 30% with a 36% spike early; the recent best 35% does not beat it.
  assert.equal(stillImproving(checks(0.3, 0.36, 0.29, 0.31, 0.3, 0.32, 0.3, 0.31, 0.33, 0.35)), false);
  // Rising, but the very last check dipped: the best of the last two (60%) still beats the earlier best (50%).
  assert.equal(stillImproving(checks(0.1, 0.2, 0.3, 0.35, 0.4, 0.42, 0.45, 0.5, 0.6, 0.2)), true);
});

Deno.test("a late take-off after a long flat stretch is improving", () => {
  assert.equal(stillImproving(checks(...Array(20).fill(0.06), 0.06, 0.07, 0.06, 0.12, 0.2)), true);
});

Deno.test("non-finite accuracies are ignored", () => {
  assert.equal(stillImproving(checks(0.3, NaN, 0.3, 0.3, NaN, 0.3)), false);
});
