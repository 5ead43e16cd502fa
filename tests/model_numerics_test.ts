import assert from "node:assert/strict";
import { initBackend } from "../lib/platform/backend.ts";
import { KERNEL_CHOICES, MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { fifteenSteps } from "./fixtures/fifteen_steps.ts";
import { PINNED_RESOLVED, PINNED_STEPS } from "./fixtures/pinned_c7af2e4.ts";

await initBackend();

const PINNED_MODELS = Object.keys(PINNED_STEPS) as ModelName[];

Deno.test("every model pinned on c7af2e4 is still in the model table", () => {
  for (const model of PINNED_MODELS) assert.ok((MODEL_NAMES as readonly string[]).includes(model), model);
});

for (const model of PINNED_MODELS) {
  for (const kernels of KERNEL_CHOICES) {
    Deno.test(`${model} (${kernels}): 15 training steps give the initial weights and losses of c7af2e4, bit for bit`, () => {
      const pinned = PINNED_STEPS[model];
      assert.deepEqual(fifteenSteps(model, kernels), {
        names: pinned.names.split(" "),
        initHash: pinned.initHash,
        losses: pinned[kernels].split(" ").map(Number),
      });
    });
  }
  Deno.test(`${model}: resolve() gives c7af2e4's mixers, pe, lr, heads, warmup and clip at tau 1 and 5, d 8 and 64`, () => {
    for (const tau of [1, 5]) {
      for (const d of [8, 64]) {
        const c = resolve({ model, K: 16, d, M: 1, L: 64, tau, seed: 0 });
        const { mixers, pe, lr, heads, warmup, clip } = c;
        assert.deepEqual({ mixers, pe, lr, heads, warmup, clip }, PINNED_RESOLVED[`${model} tau=${tau}`]);
      }
    }
  });
}
