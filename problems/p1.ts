/**
 * Problem 1 (HW3): induction heads, K=16, d=8, M=1.
 * (a) tau=1 and (b) tau=5 for the five models, accuracy at every length tau+2..3L;
 * (c) convergence: held-out accuracy vs training step (from the same runs' histories).
 */
import { MODEL_NAMES, type ModelName } from "../lib/training/config.ts";
import { runProblem } from "../lib/cli/problem.ts";
import type { SweepJob } from "../lib/runs/sweep.ts";

const USAGE = `deno task p1 [flags]

Problem 1: induction heads (K=16, d=8, M=1) at tau=1 and tau=5 for the learned-PE, RoPE and NoPE
Transformers, Mamba and the Hybrid. Writes <out>/p1/results.json and <out>/p1/index.html.`;

const TAUS = [1, 5];

/**
 * Step caps per model and tau (README, "Training recipes"): Mamba and the Hybrid converge within 3500, so
 * 6000 / 12000 are generous; the Transformers get 20000 because learned PE at tau=5 and NoPE were still
 * climbing at 8000 / 10000.
 */
function cap(model: ModelName, tau: number): number {
  if (model === "mamba" || model === "hybrid") return tau === 1 ? 6000 : 12000;
  return 20000;
}

await runProblem("p1", USAGE, (s) => {
  const jobs: SweepJob[] = [];
  for (const tau of TAUS) {
    for (const model of MODEL_NAMES) {
      for (const seed of s.seeds) {
        jobs.push({
          variant: `tau=${tau}`,
          config: { model, K: 16, d: 8, M: 1, L: s.L, tau, seed, steps: s.steps ?? cap(model, tau), ...s.common },
        });
      }
    }
  }
  return jobs;
});
