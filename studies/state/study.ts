/**
 * The state-size study: Problem 3 changes d from 8 to 64 and with it the state (2 x 16 x 2d numbers a layer), the
 * parameters and how orthogonal the fixed embeddings are. Here the state alone grows: Mamba at d = 8 with state size
 * n in {4, 16, 64} and expansion e/d in {2, 4}, and the width alone at the default state (d in {16, 32}), at M = 8
 * and 16; queries learned (the per-query probe) against state numbers per layer and against parameters.
 *
 * Every run trains a fixed budget; the learning rate is the one Problem 2's screens chose for Mamba at that M.
 */
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { recipeFor } from "../../lib/recipes/chosen.ts";
import { BUDGETS } from "../../lib/recipes/protocol.ts";

export const STATE_SIZES = [4, 16, 64];
export const EXPANSIONS = [2, 4];
export const WIDTHS = [16, 32];
const SEEDS = 5;

export const study: StudyDefinition = {
  id: "state",
  title: "The state-size study — state numbers against width",
  summary: `State size against width: Mamba at M = 8 and 16, d = 8, n in ${STATE_SIZES.join(", ")} x e/d in ` +
    `${EXPANSIONS.join(", ")}, and d in ${WIDTHS.join(", ")} at n = 16.`,
  order: 21,
  jobs(s) {
    const seeds = s.seeds ?? Array.from({ length: SEEDS }, (_, i) => i);
    const jobs: SweepJob[] = [];
    for (const M of [8, 16]) {
      const base = { model: "mamba", K: 16, M, L: s.L, tau: 1, steps: s.steps ?? BUDGETS.state } as const;
      const recipe = recipeFor(`p2-mamba-M${M}`);
      for (const stateSize of STATE_SIZES) {
        for (const expand of EXPANSIONS) {
          for (const seed of seeds) {
            jobs.push({
              variant: `M=${M} n=${stateSize} e/d=${expand}`,
              config: { ...base, d: 8, stateSize, expand, seed, ...recipe, ...s.common },
            });
          }
        }
      }
      for (const d of WIDTHS) {
        for (const seed of seeds) {
          jobs.push({ variant: `M=${M} d=${d}`, config: { ...base, d, seed, ...recipe, ...s.common } });
        }
      }
    }
    return jobs;
  },
};
