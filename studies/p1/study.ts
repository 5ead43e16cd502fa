/**
 * Problem 1 (HW3): induction heads, K=16, d=8, M=1.
 * (a) tau=1 and (b) tau=5 for the five models, accuracy at every length tau+2..3L;
 * (c) convergence: held-out accuracy vs training step (from the same runs' histories).
 */
import { MODEL_NAMES } from "../../lib/training/config.ts";
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { recipeFor } from "../../lib/recipes/chosen.ts";
import { BUDGETS, seedsFor } from "../../lib/recipes/protocol.ts";

const TAUS = [1, 5];

export const study: StudyDefinition = {
  id: "p1",
  title: "Problem 1 — induction heads (M = 1): five models, delay τ = 1 and τ = 5",
  summary: "Problem 1: induction heads (K=16, d=8, M=1) at tau=1 and tau=5 for the learned-PE, RoPE and NoPE " +
    "Transformers, Mamba and the Hybrid.",
  order: 1,
  homework: 3,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const tau of TAUS) {
      for (const model of MODEL_NAMES) {
        for (const seed of seedsFor(8, s.seeds)) {
          jobs.push({
            variant: `tau=${tau}`,
            config: {
              model,
              K: 16,
              d: 8,
              M: 1,
              L: s.L,
              tau,
              seed,
              steps: s.steps ?? BUDGETS.p1,
              ...recipeFor(`p1-${model}-tau${tau}`),
              ...s.common,
            },
          });
        }
      }
    }
    return jobs;
  },
};
