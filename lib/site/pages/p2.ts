/** The page of Problem 2 (M = 4, 8, 16 queries), drawn from its results; the runs are set in studies/p2/study.ts. */
import { accuracyHeadline, accuracyPart, convergencePart, settingText, type StudyPage } from "../view.ts";
import { fieldText, listText } from "../format.ts";
import { groupSeries, valuesOf } from "../series.ts";
import { lengthFigure, trainingFigure } from "../answer_figures.ts";
import type { RunResult } from "../../store/results.ts";

/** The runs of one model at d = 8 (the problem's width), or the RoPE Transformer at both widths. */
function of(runs: readonly RunResult[], model: string, widths: readonly number[] = [8]): RunResult[] {
  return runs.filter((r) => r.config.model === model && widths.includes(r.config.d));
}

export const page: StudyPage = {
  view(results) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const Ms = valuesOf(series, "M");
    return {
      howToRead: `The last token is now any of the first M tokens (M = 16 = K is full associative recall), so the ` +
        `model must retrieve the value that followed whichever query appears, not one fixed token. Trained at ` +
        `L = ${t.L} (K = ${t.K}, d = ${t.d}, τ = 1), tested up to 3L = ${t.L3}. Attention can look back over the ` +
        `whole context once it sees the query; a recurrent model (Mamba) must carry every (query, value) pair it ` +
        `may need in a fixed-size state before it knows which query will be asked, which gets harder as M grows. ` +
        `The hybrid uses a Mamba layer first and attention second. The RoPE Transformer at d = 64 is a capacity ` +
        `control: if it learns what the d = 8 one does not, the d = 8 failure is one of width, not of attention. ` +
        `Panels: ${listText(Ms.map((v) => fieldText("M", v)))}.`,
      parts: [
        accuracyPart(
          "p2-accuracy",
          "Accuracy against context length, by number of queries M",
          series,
          "M",
          "Accuracy of mamba, tf-rope and hybrid against the test context length, one panel per M.",
        ),
        convergencePart("p2-convergence", "Convergence during training, by M", series, "M"),
      ],
      headline: accuracyHeadline(results, series, "M", Math.max(...Ms.map(Number))),
    };
  },
  figures(results) {
    const runs = results.runs;
    return {
      "p2-a": () => lengthFigure("p2-a", of(runs, "mamba"), "Problem 2(a), Mamba at M = 4, 8, 16."),
      "p2-a-training": () =>
        trainingFigure("p2-a-training", of(runs, "mamba"), "Problem 2(a), Mamba: held-out accuracy during training."),
      "p2-b": () =>
        lengthFigure("p2-b", of(runs, "tf-rope", [8, 64]), "Problem 2(b), the RoPE Transformer at M = 4, 8, 16."),
      "p2-b-training": () =>
        trainingFigure(
          "p2-b-training",
          of(runs, "tf-rope", [8, 64]),
          "Problem 2(b), the RoPE Transformer: held-out accuracy during training.",
        ),
      "p2-c": () => lengthFigure("p2-c", of(runs, "hybrid"), "Problem 2(c), the Hybrid at M = 4, 8, 16."),
      "p2-c-training": () =>
        trainingFigure(
          "p2-c-training",
          of(runs, "hybrid"),
          "Problem 2(c), the Hybrid: held-out accuracy during training.",
        ),
    };
  },
};
