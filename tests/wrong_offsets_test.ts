import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { resolve, type RunModel } from "../lib/training/config.ts";
import { WRONG_OFFSETS, wrongOffsets } from "../lib/probes/probe_run.ts";

await initBackend();

/**
 * A stand-in model that finds the first query and answers with the token `lag` positions after it: the answer of a
 * model that located the query but misjudged the delay.
 */
function lagged(tau: number, lag: number): RunModel {
  const config = resolve({ model: "mamba", K: 16, d: 8, M: 4, L: 64, tau, seed: 1 });
  return {
    config,
    params: [],
    paramCount: 0,
    logits(tokens: Int32Array, b: number, l: number) {
      const out = new Float32Array(b * config.K);
      for (let r = 0; r < b; r++) {
        const row = tokens.subarray(r * l, (r + 1) * l);
        const i = row.indexOf(row[l - 1]);
        out[r * config.K + row[i + lag]] = 1;
      }
      return tf.tensor2d(out, [b, config.K]);
    },
    loss: () => tf.scalar(0),
    hidden: () => tf.zeros([1, 1, 1]) as tf.Tensor3D,
    dispose: () => {},
  };
}

Deno.test("wrong answers of a model that misjudges the delay pile up at that offset; elsewhere at about chance", () => {
  const w = wrongOffsets(lagged(5, 3), 512)!;
  assert.equal(w.offsets.length, WRONG_OFFSETS);
  assert.ok(w.wrong > 450, `almost every answer is wrong: ${w.wrong}`);
  assert.equal(w.share[2], 1, "every wrong answer is the token 3 after the query");
  for (const [k, share] of w.share.entries()) {
    if (k !== 2) assert.ok(share < 0.15, `offset ${k + 1}: ${share}, chance is about 1/15`);
  }
  const right = wrongOffsets(lagged(5, 5), 512)!;
  assert.equal(right.wrong, 0, "the right delay answers every sequence");
  assert.deepEqual(new Set(right.share), new Set([0]));
});
