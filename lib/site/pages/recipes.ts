/** The page of the learning-rate screens, drawn from its results; the runs are set in studies/recipes/study.ts. */
import type { StudyPage } from "../view.ts";
import { RECIPE_TABLE } from "../../recipes/chosen.ts";
import { screenParts, screenSentences } from "../screen_parts.ts";

export const page: StudyPage = {
  view(results) {
    const screened = RECIPE_TABLE.filter((row) => screenSentences(row, results.runs).length > 1).length;
    return {
      howToRead: "Each table is one setting a problem trains, screened over the same grid of learning rates for " +
        "every model on one seed with half the setting's budget. The best is the one with the highest accuracy at L " +
        "at the end (all runs at 99% or more tie), then the one that converged first, then the smaller rate; the " +
        "problems then train it on five seeds (three at d = 64).",
      parts: screenParts(RECIPE_TABLE, results.runs),
      headline: `${screened} of ${RECIPE_TABLE.length} settings have screen results (${results.runs.length} of ` +
        `${results.planned} planned runs finished).`,
    };
  },
};
