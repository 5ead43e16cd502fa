/**
 * The page of Problem 3 (Mamba at d = 64 against d = 8), drawn from its results; the runs are set in
 * studies/p3/study.ts.
 */
import { BASE_TAU } from "../../../studies/p3/study.ts";
import type { ProblemResults } from "../../store/results.ts";
import { accuracyHeadline, accuracyPart, convergencePart, emptyPart, settingText, type StudyPage } from "../view.ts";
import { fieldText, listText, steps } from "../format.ts";
import { groupSeries, type Series, valuesOf } from "../series.ts";
import { lengthFigure, trainingFigure } from "../answer_figures.ts";

function paramText(results: ProblemResults): string {
  const byD = new Map<number, number>();
  for (const r of results.runs) byD.set(r.config.d, r.paramCount);
  if (byD.size === 0) return "";
  const parts = [...byD.entries()].sort((a, b) => a[0] - b[0]).map(([d, n]) => `${steps(n)} at d = ${d}`);
  return ` Trainable parameters (the fixed embedding not counted): ${listText(parts)}, so a wider model is also a ` +
    `larger one; the comparison does not separate state size from parameter count.`;
}

export const page: StudyPage = {
  view(results) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const base = series.filter((s) => s.tau === BASE_TAU);
    const delayed = series.filter((s) => s.tau !== BASE_TAU);
    const sameSetting = (a: Series, b: Series) =>
      a.model === b.model && a.d === b.d && a.M === b.M && a.L === b.L && a.K === b.K;
    const pairs = [...base.filter((s) => delayed.some((x) => sameSetting(x, s))), ...delayed];
    const delayTaus = valuesOf(delayed, "tau");
    const delayTitle = delayed.length === 0
      ? "Longer delay"
      : `Longer delay: ${listText(valuesOf(delayed, "M").map((v) => fieldText("M", v)))}, ${
        listText(delayTaus.map((v) => fieldText("tau", v)))
      } against ${fieldText("tau", BASE_TAU)}`;
    return {
      howToRead:
        `Only Mamba. The runs with d = 64 repeat Problem 2's Mamba settings (M = 4, 8, 16, τ = ${BASE_TAU}); ` +
        `the d = 8 runs are Problem 2's, included here for comparison. d is both the embedding size and, through ` +
        `Mamba's inner width 2d, the size of the recurrent state in which the model must keep the (query, value) ` +
        `pairs it may be asked about. Trained at L = ${t.L} (K = ${t.K}), tested up to 3L = ${t.L3}. The last ` +
        `part adds a delay: with τ = ${
          delayTaus.length === 0 ? 10 : listText(delayTaus.map(String))
        } the value sits that many tokens after the query's first occurrence, so the state must keep the query ` +
        `match alive for τ steps before the value arrives.${paramText(results)}`,
      parts: [
        accuracyPart(
          "p3-accuracy",
          "Accuracy against context length: d = 8 against d = 64, by M",
          base,
          "M",
          "Mamba's accuracy against the test context length with d = 8 and d = 64, one panel per M.",
        ),
        delayed.length === 0
          ? emptyPart("p3-delay", delayTitle, "The delayed run (M = 16, τ = 10) has not finished yet.")
          : accuracyPart(
            "p3-delay",
            delayTitle,
            pairs,
            null,
            `Mamba's accuracy with the longer delay against the same setting with τ = ${BASE_TAU}.`,
          ),
        convergencePart("p3-convergence", "Convergence during training, by M", series, "M"),
      ],
      headline: accuracyHeadline(results, base, "M", Math.max(...valuesOf(base, "M").map(Number))),
    };
  },
  figures(results) {
    const base = results.runs.filter((r) => r.config.tau === BASE_TAU);
    const wide = base.filter((r) => r.config.d === 64);
    const m16wide = results.runs.filter((r) => r.config.d === 64 && r.config.M === 16);
    return {
      "p3-a": () => lengthFigure("p3-a", base, "Problem 3(a), Mamba at d = 8 and d = 64, M = 4, 8, 16."),
      "p3-a-training": () =>
        trainingFigure("p3-a-training", wide, "Problem 3(a), Mamba at d = 64: held-out accuracy during training."),
      "p3-b": () =>
        lengthFigure("p3-b", m16wide, "Problem 3(b), Mamba at d = 64, M = 16: the delay τ = 10 against τ = 1."),
      "p3-b-training": () =>
        trainingFigure(
          "p3-b-training",
          m16wide,
          "Problem 3(b), Mamba at d = 64, M = 16: held-out accuracy during training.",
        ),
    };
  },
};
