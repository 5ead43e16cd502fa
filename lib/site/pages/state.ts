/** The page of the state-size study, drawn from its results; the runs are set in studies/state/study.ts. */
import type { StudyPage } from "../view.ts";
import { glanceTable } from "../glance.ts";
import { tablePart } from "../view.ts";
import { stateParts } from "../state_chart.ts";

export const page: StudyPage = {
  view(results, context) {
    const part = tablePart("state-glance", "Accuracy by setting", results.runs, glanceTable);
    return {
      howToRead: "Each row keeps everything but the state or the width: a Mamba layer holds 2 x n x e numbers of " +
        "state per sequence (e = expansion x d). Zoology found that recurrent models need a state that grows with " +
        "the number of key-value pairs to recall; if the state is what limits Mamba at M = 8 and 16, the queries " +
        "it learns should grow with n and e/d at d = 8 as they do with d.",
      parts: [...stateParts(results.runs, context.probes ?? new Map()), part],
      headline: `${results.runs.length} of ${results.planned} runs of the state-size study.`,
    };
  },
};
