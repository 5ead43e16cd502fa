/**
 * Learning-rate screens (training revision 3's protocol, lib/recipes/protocol.ts): for every setting Problems 1-3
 * train (lib/recipes/chosen.ts RECIPE_TABLE), the same lr grid for every model (logspace(-3, -2, 4) unless --lrs),
 * one seed by default, half the setting's budget, each model's one architecture. Each setting's winner is what the
 * problems train with once it is entered in the recipe table; the page says which settings are screened and
 * whether the table follows the screen.
 */
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { RECIPE_TABLE } from "../../lib/recipes/chosen.ts";
import { gridOf, recipeLabel, screenConfig } from "../../lib/recipes/screen.ts";

export const study: StudyDefinition = {
  id: "recipes",
  title: "Training recipes — the learning rate, screened per model and setting",
  summary: "Learning-rate screens for every setting Problems 1-3 train (lib/recipes/chosen.ts): lr 1e-3 .. 1e-2 " +
    "(4 log-spaced, or --lrs) for every model, one seed unless --seeds is given, half the setting's budget. " +
    "--only p1- screens Problem 1's settings only.",
  order: 10,
  defaultSeeds: 1,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const row of RECIPE_TABLE) {
      for (const recipe of gridOf(row.setting, s.lrs)) {
        for (const seed of s.seeds ?? [0]) {
          jobs.push({
            variant: recipeLabel(row.setting, recipe),
            config: screenConfig(row.setting, recipe, s.L, seed, { ...s.common, steps: s.steps }),
          });
        }
      }
    }
    return jobs;
  },
};
