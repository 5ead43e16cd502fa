/**
 * Problem 2 (HW4): associative recall with M = 4, 8, 16 queries (M=16 is full AR), K=16, d=8, tau=1,
 * for Mamba, the RoPE Transformer and the Hybrid.
 */
import type { ModelName } from "../../lib/training/config.ts";
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { recipeFor } from "../../lib/recipes/chosen.ts";
import { BUDGETS, seedsFor } from "../../lib/recipes/protocol.ts";

const MODELS: readonly ModelName[] = ["mamba", "tf-rope", "hybrid"];

const MS = [4, 8, 16];

export const study: StudyDefinition = {
  id: "p2",
  title: "Problem 2 — associative recall with M = 4, 8, 16 queries (d = 8)",
  summary: "Problem 2: AR with M = 4, 8, 16 (K=16, d=8, tau=1) for Mamba, the RoPE Transformer and the Hybrid.",
  order: 2,
  homework: 4,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const M of MS) {
      for (const model of MODELS) {
        for (const seed of seedsFor(8, s.seeds)) {
          jobs.push({
            variant: `M=${M}`,
            config: {
              model,
              K: 16,
              d: 8,
              M,
              L: s.L,
              tau: 1,
              seed,
              steps: s.steps ?? BUDGETS.p2,
              ...recipeFor(`p2-${model}-M${M}`),
              ...s.common,
            },
          });
        }
      }
      // The capacity control (issue 10.4): the RoPE Transformer at d = 64, where zoology found attention solves
      // multi-query recall at every width it tried, tells "d = 8 is too narrow" from "the method fails".
      for (const seed of seedsFor(64, s.seeds)) {
        jobs.push({
          variant: `M=${M} d=64`,
          config: {
            model: "tf-rope",
            K: 16,
            d: 64,
            M,
            L: s.L,
            tau: 1,
            seed,
            steps: s.steps ?? BUDGETS.p2Control,
            ...recipeFor(`p2-tf-rope-d64-M${M}`),
            ...s.common,
          },
        });
      }
    }
    return jobs;
  },
};
