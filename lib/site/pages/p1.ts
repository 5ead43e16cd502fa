/**
 * The page of Problem 1 (induction heads at tau = 1 and 5), drawn from its results; the runs are set in
 * studies/p1/study.ts.
 */
import {
  accuracyHeadline,
  accuracyPart,
  convergencePart,
  nameFieldsOf,
  type Part,
  settingText,
  type StudyPage,
} from "../view.ts";
import { fieldText, listText } from "../format.ts";
import { groupSeries, valuesOf } from "../series.ts";
import { screenParts } from "../screen_parts.ts";
import { evidenceOf } from "../evidence.ts";
import { paperPart } from "../paper_table.ts";
import { RECIPE_TABLE } from "../../recipes/chosen.ts";
import { lengthFigure, trainingFigure } from "../answer_figures.ts";

export const page: StudyPage = {
  view(results, context) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const taus = valuesOf(series, "tau");
    const recipes = context.results.get("recipes");
    const evidence = evidenceOf(series, context.probes ?? new Map(), nameFieldsOf(series, null));
    const table = paperPart("p1-paper", evidence, series.filter((s) => s.tau === Math.min(...taus.map(Number))));
    const parts: Part[] = [
      ...(table === null ? [] : [table]),
      accuracyPart(
        "p1-accuracy",
        "(a, b) Accuracy against context length",
        series,
        "tau",
        "Accuracy of the five models against the test context length, one panel per delay τ.",
      ),
      convergencePart("p1-convergence", "(c) Convergence during training", series, "tau"),
    ];
    if (recipes !== undefined && recipes.runs.length > 0) {
      parts.push(...screenParts(RECIPE_TABLE.filter((row) => row.setting.id.startsWith("p1-")), recipes.runs));
    }
    return {
      howToRead: `Every model is trained only on sequences of length L = ${t.L} (K = ${t.K} tokens, d = ${t.d}) ` +
        `and then tested at every length from τ+2 to 3L = ${t.L3}. With M = 1 the query q is always the same ` +
        `token: the model must find q's earlier occurrence and output the token τ positions after it. Accuracy up ` +
        `to the vertical line at L shows whether a model learned the task; beyond it, whether the mechanism it ` +
        `learned carries over to positions and distances never seen in training (length generalisation). With ` +
        `a delay τ > 1 the value no longer follows q directly: a model has to match q and then look τ tokens ` +
        `further, instead of copying the next token. Panels: ${listText(taus.map((v) => fieldText("tau", v)))}. ` +
        `Part (c) follows the accuracy on a fixed held-out batch during training: how fast each model converges.`,
      parts,
      headline: accuracyHeadline(results, series, "tau", Math.min(...taus.map(Number))),
    };
  },
  figures(results) {
    const at = (tau: number) => results.runs.filter((r) => r.config.tau === tau);
    return {
      "p1-a": () => lengthFigure("p1-a", at(1), "Problem 1(a), τ = 1: accuracy against the test length."),
      "p1-b": () => lengthFigure("p1-b", at(5), "Problem 1(b), τ = 5: accuracy against the test length."),
      "p1-c1": () => trainingFigure("p1-c1", at(1), "Problem 1(c), τ = 1: held-out accuracy at L during training."),
      "p1-c5": () => trainingFigure("p1-c5", at(5), "Problem 1(c), τ = 5: held-out accuracy at L during training."),
    };
  },
};
