import assert from "node:assert/strict";
import { caveatOf, comparePoints } from "../lib/site/comparison.ts";
import { type CurvePoint } from "../lib/site/series.ts";
import { wilsonInterval } from "../lib/stats/wilson.ts";

/** A curve point at length 32 from each seed's accuracy on `n` sequences. */
function point(accuracies: number[], n: number): CurvePoint {
  const correct = accuracies.reduce((c, a) => c + Math.round(a * n), 0);
  return {
    length: 32,
    mean: accuracies.reduce((a, b) => a + b, 0) / accuracies.length,
    min: Math.min(...accuracies),
    max: Math.max(...accuracies),
    seeds: accuracies.map((accuracy, seed) => ({ seed, accuracy })),
    samples: n * accuracies.length,
    interval: wilsonInterval(correct, n * accuracies.length),
  };
}

const NAMES = ["mamba", "hybrid"] as const;

Deno.test("one seed: a difference is claimed only when the 95% intervals do not overlap", () => {
  const close = comparePoints(point([0.5], 256), point([0.53], 256));
  assert.equal(close.winner, "tie");
  assert.equal(caveatOf(close, NAMES), "intervals overlap");
  const far = comparePoints(point([0.5], 256), point([0.7], 256));
  assert.equal(far.winner, "b");
  assert.equal(caveatOf(far, NAMES), null);
});

Deno.test("several seeds: a difference is claimed when it holds for every seed beyond the intervals, and flips to a caveat when one seed disagrees", () => {
  const every = comparePoints(point([0.62, 0.63, 0.61], 256), point([0.5, 0.5, 0.5], 256));
  assert.equal(every.overlap, false);
  assert.equal(every.winner, "a");
  const within = comparePoints(point([0.52, 0.53, 0.51], 256), point([0.5, 0.5, 0.5], 256));
  assert.equal(within.overlap, true);
  assert.equal(within.winner, "tie");
  assert.equal(caveatOf(within, NAMES), "mamba higher on every seed, within the intervals");
  const twoOfThree = comparePoints(point([0.62, 0.63, 0.49], 256), point([0.5, 0.5, 0.5], 256));
  assert.equal(twoOfThree.winner, "tie");
  assert.equal(caveatOf(twoOfThree, NAMES), "mamba higher on 2 of 3 seeds");
});

Deno.test("several seeds: pooled intervals far apart do not outvote a seed that disagrees", () => {
  // Problem 2's first rerun at M = 4: Mamba 76.7, 99.4, 99.5% against RoPE 99.2, 10.7, 15.0% at L (2048 each).
  const mamba = point([0.767, 0.994, 0.995], 2048), rope = point([0.992, 0.107, 0.15], 2048);
  const c = comparePoints(mamba, rope);
  assert.equal(c.overlap, false);
  assert.equal(c.winner, "tie");
  assert.equal(caveatOf(c, ["mamba", "tf-rope"]), "mamba higher on 2 of 3 seeds");
  const everySeed = comparePoints(point([0.993, 0.994, 0.995], 2048), rope);
  assert.equal(everySeed.winner, "a");
});

Deno.test("more sequences separate a difference that fewer cannot", () => {
  assert.equal(comparePoints(point([0.5], 256), point([0.55], 256)).winner, "tie");
  assert.equal(comparePoints(point([0.5], 2048), point([0.55], 2048)).winner, "b");
});
