/**
 * Problem 3 (HW4): Mamba with a wider embedding, K=16, d=64: M = 4, 8, 16 at tau=1 side by side with the
 * d=8 Mamba runs (the same runs as Problem 2's, reused by key when finished there), and M=16 at tau=10.
 */
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import type { ExperimentConfig } from "../../lib/training/config.ts";
import { recipeFor } from "../../lib/recipes/chosen.ts";
import { BUDGETS, seedsFor } from "../../lib/recipes/protocol.ts";

const MS = [4, 8, 16];
/**
 * The budget and recipe of a run: d = 8 runs are Problem 2's (the same runs, at Problem 2's budget), d = 64 ones
 * have their own budget and screens.
 */
function plan(d: number, M: number, tau: number): Partial<ExperimentConfig> & { steps: number } {
  return d === 8
    ? { steps: BUDGETS.p2, ...recipeFor(`p2-mamba-M${M}`) }
    : { steps: BUDGETS.p3, ...recipeFor(`p3-mamba-d64-M${M}${tau === 1 ? "" : `-tau${tau}`}`) };
}
/** Standard AR (tau = 1) is the comparison of d; any other tau is the delay experiment. */
export const BASE_TAU = 1;

export const study: StudyDefinition = {
  id: "p3",
  title: "Problem 3 — Mamba with a wider embedding: d = 64 against d = 8",
  summary: "Problem 3: Mamba at d=64 (K=16) for M = 4, 8, 16 with tau=1, compared with d=8 (the same runs as " +
    "Problem 2's, reused when finished there), and M=16 with tau=10.",
  order: 3,
  homework: 4,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const M of MS) {
      for (const d of [8, 64]) {
        for (const seed of seedsFor(d, s.seeds)) {
          const p = plan(d, M, BASE_TAU);
          jobs.push({
            variant: `d=${d} M=${M}`,
            config: {
              model: "mamba",
              K: 16,
              d,
              M,
              L: s.L,
              tau: BASE_TAU,
              seed,
              ...p,
              steps: s.steps ?? p.steps,
              ...s.common,
            },
          });
        }
      }
    }
    for (const seed of seedsFor(64, s.seeds)) {
      const p = plan(64, 16, 10);
      jobs.push({
        variant: "d=64 M=16 tau=10",
        config: {
          model: "mamba",
          K: 16,
          d: 64,
          M: 16,
          L: s.L,
          tau: 10,
          seed,
          ...p,
          steps: s.steps ?? p.steps,
          ...s.common,
        },
      });
    }
    return jobs;
  },
};
