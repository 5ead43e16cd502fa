/**
 * Recipe screens (issue 10.2): for every setting the problems depend on (lib/recipes/chosen.ts RECIPE_TABLE), a
 * grid of heads {1, 2, 4} x lr logspace(-4, -2, 4) x initialisation (attention models), one seed by default, about
 * half the problem's budget, no continuation. Each setting's winner is what the problems train with once it is
 * entered in the recipe table; the page says which settings are screened and whether the table follows the screen.
 */
import type { ProblemDefinition, SweepJob } from "../lib/problems/definition.ts";
import { RECIPE_TABLE } from "../lib/recipes/chosen.ts";
import { gridOf, recipeLabel, screenConfig } from "../lib/recipes/screen.ts";
import { screenParts, screenSentences } from "../lib/report/screen_parts.ts";

export const problem: ProblemDefinition = {
  id: "recipes",
  title: "Training recipes — heads × learning rate × initialisation, screened per setting",
  summary: "Recipe screens for every setting Problems 1-3 train (lib/recipes/chosen.ts): heads 1, 2, 4 x lr " +
    "1e-4 .. 1e-2 (4 log-spaced) x initialisation, one seed unless --seeds is given, about half the problem's step " +
    "cap. " +
    "--only p1- screens Problem 1's settings only.",
  order: 10,
  defaultSeeds: 1,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const row of RECIPE_TABLE) {
      for (const recipe of gridOf(row.setting)) {
        for (const seed of s.seeds) {
          jobs.push({
            variant: recipeLabel(row.setting, recipe),
            config: screenConfig(row.setting, recipe, s.L, seed, { ...s.common, steps: s.steps }),
          });
        }
      }
    }
    return jobs;
  },
  view(results) {
    const screened = RECIPE_TABLE.filter((row) => screenSentences(row, results.runs).length > 1).length;
    return {
      howToRead: "Each table is one setting a problem trains, screened over a grid of recipes on one seed with about " +
        "half the problem's step budget and no continuation. The best recipe is the one that converged first, or, " +
        "if none converged, the one with the highest accuracy at L; the problems then confirm it on three seeds.",
      parts: screenParts(RECIPE_TABLE, results.runs),
      headline: `${screened} of ${RECIPE_TABLE.length} settings have screen results (${results.runs.length} of ` +
        `${results.planned} planned runs finished).`,
    };
  },
};
