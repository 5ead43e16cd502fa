import assert from "node:assert/strict";
import { thinLog } from "../lib/site/thin.ts";

Deno.test("a training curve keeps one measured check per bin of the log step, and the points it must", () => {
  const history = Array.from({ length: 800 }, (_, i) => ({ step: 50 * (i + 1), accuracy: i / 800 }));
  const thin = thinLog(history, 32, (h) => h.step === 12_345 || h.step === 20_000);
  assert.ok(thin.length < 250 && thin.length > 150, `${thin.length} points`);
  assert.ok(thin.every((p) => history.includes(p)), "every drawn point is a real check, not an average");
  assert.deepEqual(thin.slice(0, 3), history.slice(0, 3), "early checks, far apart on a log axis, all stay");
  assert.ok(thin.some((p) => p.step === 20_000), "a point named by keep stays");
  assert.equal(thin.at(-1), history.at(-1), "the last check stays");
  const steps = thin.map((p) => p.step);
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b), "in order");
});
