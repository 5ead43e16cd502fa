import assert from "node:assert/strict";
import { initBackend } from "../lib/platform/backend.ts";
import { KERNEL_CHOICES, type Kernels, MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { fifteenSteps } from "./fixtures/fifteen_steps.ts";
import { PINNED_RESOLVED, PINNED_STEPS } from "./fixtures/pinned_c7af2e4.ts";

await initBackend();

const PINNED_MODELS = Object.keys(PINNED_STEPS) as ModelName[];

Deno.test("every model pinned on c7af2e4 is still in the model table", () => {
  for (const model of PINNED_MODELS) assert.ok((MODEL_NAMES as readonly string[]).includes(model), model);
});

/**
 * Loss tolerance per model and kernel choice; absent: bit for bit. Names and initial weights are always compared
 * exactly. The fast path's LayerNorms and its readout + cross-entropy became fused ops (layer_norm.ts,
 * readout_loss.ts: float64 row sums, one rounding) on perf, which reorders their floating-point work: every
 * fast model's 15 losses then agree with c7af2e4's to 4.8e-7 (measured), so those comparisons allow 1e-6 and
 * no more. The reference path is unchanged and stays bit for bit.
 */
const LOSS_TOLERANCE: Partial<Record<`${ModelName} ${Kernels}`, number>> = {
  "tf-learned fast": 1e-6,
  "tf-rope fast": 1e-6,
  "tf-nope fast": 1e-6,
  "mamba fast": 1e-6,
  "hybrid fast": 1e-6,
};

for (const model of PINNED_MODELS) {
  for (const kernels of KERNEL_CHOICES) {
    const tolerance = LOSS_TOLERANCE[`${model} ${kernels}`];
    const how = tolerance === undefined ? "bit for bit" : `losses to ${tolerance}`;
    Deno.test(`${model} (${kernels}): 15 training steps give the initial weights and losses of c7af2e4, ${how}`, () => {
      const pinned = PINNED_STEPS[model];
      const got = fifteenSteps(model, kernels);
      const losses = pinned[kernels].split(" ").map(Number);
      assert.deepEqual({ names: got.names, initHash: got.initHash }, {
        names: pinned.names.split(" "),
        initHash: pinned.initHash,
      });
      if (tolerance === undefined) assert.deepEqual(got.losses, losses);
      else {
        assert.equal(got.losses.length, losses.length);
        got.losses.forEach((loss, i) => {
          assert.ok(Math.abs(loss - losses[i]) <= tolerance, `step ${i}: ${loss} vs pinned ${losses[i]}`);
        });
      }
    });
  }
  Deno.test(`${model}: resolve() gives c7af2e4's mixers, pe, lr, warmup and clip at tau 1 and 5, d 8 and 64, and 2 heads`, () => {
    for (const tau of [1, 5]) {
      for (const d of [8, 64]) {
        const c = resolve({ model, K: 16, d, M: 1, L: 64, tau, seed: 0 });
        const { mixers, pe, lr, heads, warmup, clip } = c;
        const pinned = PINNED_RESOLVED[`${model} tau=${tau}`];
        // Training revision 3 gives every attention layer 2 heads (lib/recipes/protocol.ts); c7af2e4 had 4.
        const expected = { ...pinned, heads: pinned.heads === 0 ? 0 : 2 };
        assert.deepEqual({ mixers, pe, lr, heads, warmup, clip }, expected);
      }
    }
  });
}
