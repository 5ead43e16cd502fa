/**
 * A run that converged and then collapsed is never shown as simply "converged": its ending, the legend's note and
 * the glance table say it collapsed and where it ended.
 */
import assert from "node:assert/strict";
import { collapsedText, endingOf } from "../lib/site/ending.ts";
import { glanceTable } from "../lib/site/glance.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";
import type { RunResult } from "../lib/store/results.ts";

/** A converged fixture run whose held-out accuracy falls to `end` at its last check. */
function fallsTo(seed: number, end: number): RunResult {
  const r = fixtureRun({ model: "hybrid", M: 8, d: 8, tau: 1, seed });
  const history = r.history.map((h, i) => (i === r.history.length - 1 ? { ...h, accuracy: end } : h));
  return { ...r, history };
}

Deno.test("a converged run that fell back is shown as collapsed, with where it ended", () => {
  const held = fallsTo(0, 1), fell = fallsTo(1, 0.057);
  assert.equal(endingOf(held), "converged");
  assert.match(endingOf(fell), /^converged at [\d,]+, then collapsed \(5\.7% at the end\)$/);
  assert.equal(collapsedText([held], 1), null);
  assert.equal(collapsedText([held, fell], 2), "1 of 2 seeds converged and then collapsed (ending at 5.7%)");
  assert.equal(collapsedText([fell], 1), "converged and then collapsed (ending at 5.7%)");
  const table = glanceTable([held, fell]);
  assert.match(table, /\| 2 of 2 \(1 then collapsed\) \|/);
  assert.doesNotMatch(glanceTable([held, fallsTo(1, 0.9)]), /collapsed/, "a drop of 10 points is not a collapse");
});
