import assert from "node:assert/strict";
import { isStair, riseFor, stairIndex, stairLevel, stretchesOf } from "../lib/site/stairs.ts";
import type { HistoryPoint } from "../lib/training/record.ts";
import { mt19937 } from "../lib/task/random.ts";

/** Checks every 50 steps through `end` at the given levels, with held-out noise of about `sd` (seeded). */
function history(levels: readonly (readonly [number, number])[], end: number, sd: number): HistoryPoint[] {
  const rng = mt19937(7);
  const out: HistoryPoint[] = [];
  for (let step = 50; step <= end; step += 50) {
    const level = levels.filter(([from]) => from <= step).at(-1)![1];
    out.push({ step, loss: 1, accuracy: Math.min(1, Math.max(0, level + sd * rng.gaussian())) });
  }
  return out;
}

Deno.test("a stair level is k of M queries answered and the rest guessed among K values", () => {
  assert.equal(stairLevel(0, 4, 16), 1 / 16);
  assert.equal(stairLevel(3, 4, 16), 0.75 + 0.25 / 16);
  assert.equal(stairLevel(4, 4, 16), 1);
  assert.equal(stairIndex(0.766, 4, 16), 3);
  assert.equal(stairIndex(0.65, 4, 16), null, "between stairs");
  assert.equal(stairIndex(0.0625, 4, 16), null, "chance is not a stair");
});

Deno.test("a noisy staircase splits into its stairs at their levels", () => {
  const M = 4, K = 16;
  const h = history([[0, stairLevel(0, M, K)], [3000, stairLevel(1, M, K)], [9000, stairLevel(2, M, K)]], 16000, 0.02);
  const stairs = stretchesOf(h, riseFor(M, K)).filter((s) => isStair(s, M, K, 1000));
  assert.deepEqual(stairs.map((s) => stairIndex(s.level, M, K)), [1, 2]);
  assert.ok(
    Math.abs(stairs[0].from - 3000) <= 300 && Math.abs(stairs[0].to - 9000) <= 300,
    "rises found near 3000 and 9000",
  );
  assert.equal(stairs[1].rose, false, "the last stretch runs to the end");
});

Deno.test("a steady climb drifts, so it has no stairs even where it passes their levels", () => {
  const M = 4, K = 16;
  const climb = Array.from({ length: 300 }, (_, i) => [i * 50, 0.0625 + i * 0.003] as const);
  const stretches = stretchesOf(history(climb, 15000, 0.01), riseFor(M, K));
  assert.ok(stretches.length >= 2, "the climb is cut into stretches");
  assert.equal(stretches.filter((s) => isStair(s, M, K, 1000)).length, 0);
  const long = stretches.filter((s) => s.to - s.from >= 1000);
  assert.ok(long.length > 0 && long.every((s) => s.drift > riseFor(M, K) / 2), "each long stretch drifts upward");
  const atStairLevel = { from: 0, to: 5000, level: stairLevel(2, M, K), drift: 0.1, rose: true };
  assert.equal(isStair(atStairLevel, M, K, 1000), false, "at a stair's level but climbing");
  assert.equal(isStair({ ...atStairLevel, drift: 0 }, M, K, 1000), true);
});
