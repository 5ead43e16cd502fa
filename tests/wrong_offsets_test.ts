import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { resolve, type RunModel } from "../lib/training/config.ts";
import { outsideQueries, WRONG_OFFSETS, wrongOffsets } from "../lib/probes/probe_run.ts";

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

/** A stand-in that answers right unless another candidate query (a token below M, not q) is among the fillers. */
function distracted(M: number): RunModel {
  const config = resolve({ model: "mamba", K: 16, d: 8, M, L: 32, tau: 1, seed: 2 });
  return {
    ...lagged(1, 1),
    config,
    logits(tokens: Int32Array, b: number, l: number) {
      const out = new Float32Array(b * config.K);
      for (let r = 0; r < b; r++) {
        const row = tokens.subarray(r * l, (r + 1) * l), q = row[l - 1];
        const i = row.indexOf(q);
        const other = row.some((t, p) => p !== i + 1 && t < M && t !== q); // among the fillers
        out[r * config.K + (other ? (row[i + 1] + 1) % config.K : row[i + 1])] = 1;
      }
      return tf.tensor2d(out, [b, config.K]);
    },
  };
}

Deno.test("a model the other candidate queries confuse fails with training's fillers and answers without them", () => {
  const o = outsideQueries(distracted(4), [32, 64], 256)!;
  assert.deepEqual(o.lengths, [32, 64]);
  assert.deepEqual(o.outside, [1, 1]);
  for (const u of o.usual) assert.ok(u < 0.05, `with the other candidates among the fillers: ${u}`);
  assert.equal(outsideQueries(distracted(1), [32]), null, "M = 1: no other candidate exists");
  assert.equal(
    outsideQueries({
      ...distracted(4),
      config: resolve({ model: "mamba", K: 16, d: 8, M: 16, L: 32, tau: 1, seed: 2 }),
    }, [32]),
    null,
  );
});
