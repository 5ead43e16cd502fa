/**
 * The page of Problem 1 (induction heads at tau = 1 and 5), drawn from its results; the runs are set in
 * studies/p1/study.ts.
 */
import type { StudyPage } from "../view.ts";

import type { ProblemResults } from "../../store/results.ts";
import { accuracyPart, compact, convergencePart, nameFieldsOf, noRuns, type Part, settingText } from "../view.ts";
import { effectSentences, effectSummary, HOLD } from "../findings.ts";
import { fieldText, listText, pct, seriesName } from "../format.ts";
import { groupSeries, holdsUpTo, longestLength, pointAt, type Series, valuesOf } from "../series.ts";
import { screenParts } from "../screen_parts.ts";
import { type Answer, answersPart, within } from "../answers.ts";
import { evidenceOf } from "../evidence.ts";
import {
  hybridLookupClaim,
  lagHeadClaim,
  learnedPositionsClaim,
  noPositionsClaim,
  ropeOffsetsClaim,
} from "../claims/attention_claims.ts";
import { delayWindowClaim, recurrenceClaim } from "../claims/mamba_claims.ts";
import { batchClaim, fastestClaim, shortLengthClaim } from "../claims/training_claims.ts";
import { paperPart } from "../paper_table.ts";
import { RECIPE_TABLE } from "../../recipes/chosen.ts";

/** The assignment's three sub-questions and the claims that answer them. */
const ANSWERS: readonly Answer[] = [
  {
    question: "(a) τ = 1: how the five models compare, and how far they generalise beyond L",
    claims: within(
      (s) => s.tau === 1,
      learnedPositionsClaim,
      ropeOffsetsClaim,
      noPositionsClaim,
      recurrenceClaim,
      hybridLookupClaim,
      shortLengthClaim,
    ),
  },
  {
    question: "(b) τ = 5: the impact of the delay",
    claims: [
      ...within((s) => s.tau > 1, noPositionsClaim, lagHeadClaim, recurrenceClaim),
      delayWindowClaim,
    ],
  },
  { question: "(c) Which models converge faster", claims: [batchClaim, fastestClaim] },
];

function headline(results: ProblemResults, series: readonly Series[]): string {
  const tau = valuesOf(series, "tau")[0];
  const group = series.filter((s) => s.tau === tau);
  if (group.length === 0) return noRuns(results);
  const names = nameFieldsOf(group, "tau");
  const curves = group.filter((s) => s.evaluated.length > 0);
  const good = curves.filter((s) => (holdsUpTo(s, HOLD) ?? 0) >= (longestLength(s) ?? Infinity));
  const bad = curves.filter((s) => !good.includes(s));
  const diverged = group.filter((s) => s.evaluated.length === 0);
  const L = group[0].L;
  const at3 = (s: Series) => `${seriesName(s, names)} ${pct(pointAt(s, 3 * s.L)?.mean ?? 0)}`;
  const lead = `Trained at L = ${L} with τ = ${tau}, `;
  if (curves.length === 0) {
    return `${lead}every finished run diverged (${listText(diverged.map((s) => seriesName(s, names)))}).`;
  }
  const goodText = good.length === 0
    ? `no model stays ≥ ${pct(HOLD)} accurate up to 3L = ${3 * L}`
    : `${listText(good.map((s) => seriesName(s, names)))} stay${good.length === 1 ? "s" : ""} ≥ ${
      pct(HOLD)
    } accurate up to 3L = ${3 * L}`;
  const badText = bad.length === 0
    ? ""
    : `${good.length === 0 ? "" : " while the others do not"} (at 3L: ${listText(bad.map(at3))})`;
  const divText = diverged.length === 0 ? "" : `; ${listText(diverged.map((s) => seriesName(s, names)))} diverged`;
  return `${lead}${goodText}${badText}${divText}.`;
}

export const page: StudyPage = {
  view(results, context) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const taus = valuesOf(series, "tau");
    const delay = compact([...effectSentences(series, "tau"), effectSummary(series, "tau")]);
    const recipes = context.results.get("recipes");
    const evidence = evidenceOf(series, context.probes ?? new Map(), nameFieldsOf(series, null));
    const table = paperPart("p1-paper", evidence, series.filter((s) => s.tau === Math.min(...taus.map(Number))));
    const parts: Part[] = [
      answersPart("p1-answers", ANSWERS, evidence),
      ...(table === null ? [] : [table]),
      accuracyPart(
        "p1-accuracy",
        "(a, b) Accuracy against context length",
        series,
        "tau",
        "Accuracy of the five models against the test context length, one panel per delay τ.",
        [{ heading: "Effect of the delay τ", sentences: delay }],
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
      headline: headline(results, series),
    };
  },
};
