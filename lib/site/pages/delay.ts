/** The page of the delay study, drawn from its results; the runs are set in studies/delay/study.ts. */
import type { StudyPage } from "../view.ts";
import { glanceTable } from "../glance.ts";
import { tablePart } from "../view.ts";
import { wrongOffsetsPart } from "../wrong_offsets_chart.ts";

export const page: StudyPage = {
  view(results, context) {
    const part = tablePart("delay-glance", "Accuracy by setting", results.runs, glanceTable);
    const offsets = wrongOffsetsPart("delay-offsets", results.runs, context.probes ?? new Map());
    return {
      howToRead: "The prediction, stated before any run finished: a two-layer Mamba (convolution width 4 in each " +
        "layer, so 6 tokens of reach) learns a delay of up to 6 from its convolutions, and beyond that only by " +
        "carrying the value in its state, so at M > 1 its learnability should step down between tau = 6 and 7; the " +
        "Hybrid's single convolution reaches 3, so its step should come between 3 and 4. Width 12 at tau = 10 " +
        "brings that delay back within reach.",
      parts: [part, offsets],
      headline: `${results.runs.length} of ${results.planned} runs of the delay study.`,
    };
  },
};
