import assert from "node:assert/strict";
import { ConfigError, type ExperimentConfig, MODEL_NAMES, resolve } from "../lib/training/config.ts";

const base: ExperimentConfig = { model: "mamba", K: 16, d: 8, M: 1, L: 64, tau: 1, seed: 0 };

Deno.test("resolve() fills per-model defaults and derives mixers, PE, Mamba sizes and eval lengths", () => {
  const c = resolve(base);
  assert.deepEqual(c.mixers, ["mamba", "mamba"]);
  assert.equal(c.pe, "none");
  assert.equal(c.mambaInner, 16);
  assert.equal(c.dtRank, 1);
  assert.equal(c.maxLen, 1024, "the longest evaluated length, 16L");
  assert.equal(c.evalLengths[0], 3);
  assert.deepEqual(c.evalLengths.slice(-4), [192, 256, 512, 1024], "3L, then 4L, 8L, 16L");
  assert.equal(c.evalLengths.length, 193);
  assert.equal(resolve({ ...base, farLengths: [] }).maxLen, 192);
  assert.equal(c.heads, 0);
  const h = resolve({ ...base, model: "hybrid", d: 64 });
  assert.deepEqual(h.mixers, ["mamba", "attention"]);
  assert.equal(h.dtRank, 4);
  assert.ok(h.heads > 0);
  assert.equal(resolve({ ...base, model: "tf-learned" }).pe, "learned");
  assert.equal(resolve({ ...base, model: "tf-rope" }).pe, "rope");
  assert.equal(resolve({ ...base, model: "tf-nope" }).pe, "none");
});

Deno.test("resolve() rejects out-of-range configs with a message naming the flag", () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ M: 17 }, "--M must be an integer in [1, K=16], got 17"],
    [{ M: 0 }, "--M"],
    [{ tau: 63 }, "--tau must be an integer in [1, L-2=62]"],
    [{ L: 2 }, "--L"],
    [{ d: 0 }, "--d"],
    [{ K: -1 }, "--K"],
    [{ batch: 0 }, "--batch"],
    [{ steps: 0 }, "--steps"],
    [{ steps: 1.5 }, "--steps"],
    [{ model: "lstm" }, `--model must be one of ${MODEL_NAMES.join(", ")}, got lstm`],
    [{ model: "tf-rope", heads: 3 }, "--heads"],
    [{ model: "tf-rope", heads: 8 }, "--heads must leave an even head size"],
    [{ lr: -1 }, "--lr"],
    [{ farLengths: [3] }, "--far-lengths must be increasing integers > 3"],
    [{ d: 3 }, "--d x --expand must be a multiple of 4 for Mamba's fast kernels"],
    [{ model: "hybrid", d: 5, heads: 1 }, "--d x --expand must be a multiple of 4"],
    [{ stateSize: 6 }, "--state-size must be a multiple of 4 for Mamba's fast scan"],
    [{ expand: 0 }, "--expand must be an integer in [1, 16]"],
    [{ convWidth: 0 }, "--conv-width must be an integer in [1, 64]"],
    [{ L: 4096, batch: 65536, farLengths: [] }, "--batch x L needs about"],
    [{ farLengths: [8, 4] }, "--far-lengths"],
    [{ farLengths: [512] }, "--far-lengths"],
  ];
  for (const [patch, message] of bad) {
    assert.throws(
      () => resolve({ ...base, ...patch } as ExperimentConfig),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(message),
      JSON.stringify(patch),
    );
  }
});
