/**
 * The page of Problem 3 (Mamba at d = 64 against d = 8), drawn from its results; the runs are set in
 * studies/p3/study.ts.
 */
import { BASE_TAU } from "../../../studies/p3/study.ts";
import type { StudyPage } from "../view.ts";

import type { ProblemResults } from "../../store/results.ts";
import { accuracyPart, compact, convergencePart, emptyPart, nameFieldsOf, noRuns, settingText } from "../view.ts";
import { effectSentences, effectSummary, rankingText, stateSizeSentence } from "../findings.ts";
import { fieldText, listText, pct, steps } from "../format.ts";
import { groupSeries, pointAt, type Series, valuesOf } from "../series.ts";
import { caveatOf, compareAt } from "../comparison.ts";
import { type Answer, answersPart, within } from "../answers.ts";
import { evidenceOf } from "../evidence.ts";
import { delayWindowClaim, perQueryClaim, queriesClaim, widthClaim } from "../claims/mamba_claims.ts";
import { stairsClaim } from "../claims/training_claims.ts";
import { screenConfirmationClaim } from "../claims/recipe_claims.ts";

/** The assignment's two bullets and the claims that answer them. */
const ANSWERS: readonly Answer[] = [
  {
    question: "d = 64 against Problem 2's d = 8, for M = 4, 8, 16: how d changes the results",
    claims: within(
      (s) => s.tau === BASE_TAU,
      widthClaim,
      queriesClaim,
      stairsClaim,
      perQueryClaim,
      screenConfirmationClaim,
    ),
  },
  { question: "M = 16 with τ = 10", claims: [delayWindowClaim] },
];

/** " Parameters: 2,784 at d = 8, 66,704 at d = 64." from the runs (what the d comparison also changes). */
function paramText(results: ProblemResults): string {
  const byD = new Map<number, number>();
  for (const r of results.runs) byD.set(r.config.d, r.paramCount);
  if (byD.size === 0) return "";
  const parts = [...byD.entries()].sort((a, b) => a[0] - b[0]).map(([d, n]) => `${steps(n)} at d = ${d}`);
  return ` Trainable parameters (the fixed embedding not counted): ${listText(parts)}, so a wider model is also a ` +
    `larger one; the comparison does not separate state size from parameter count.`;
}

function headline(results: ProblemResults, series: readonly Series[]): string {
  if (series.length === 0) return noRuns(results);
  const base = series.filter((s) => s.tau === BASE_TAU);
  const Ms = valuesOf(base, "M") as number[];
  for (const M of [...Ms].reverse()) {
    const atM = base.filter((s) => s.M === M && s.evaluated.length > 0).sort((a, b) => a.d - b.d);
    if (atM.length < 2) continue;
    const small = atM[0], large = atM[atM.length - 1];
    const a = (s: Series, k: number) => pct(pointAt(s, k * s.L)?.mean ?? 0);
    const names = [`d = ${large.d}`, `d = ${small.d}`] as const;
    const caveats = [1, 3].map((k) => {
      const c = compareAt(large, small, k * large.L);
      const caveat = c === null ? null : caveatOf(c, names);
      return caveat === null ? null : `at ${k === 1 ? "" : k}L no clear difference: ${caveat}`;
    }).filter((x): x is string => x !== null);
    const caveatText = caveats.length === 0 ? "" : ` (${caveats.join("; ")})`;
    return `For ${large.model} at M = ${M}, d = ${large.d} gives ${a(large, 1)} at L = ${large.L} against ${
      a(small, 1)
    } with d = ${small.d} (at 3L = ${3 * large.L}: ${a(large, 3)} against ${a(small, 3)})${caveatText}.`;
  }
  const names = nameFieldsOf(series, null);
  const ranked = rankingText(series, 1, names);
  return ranked === null
    ? "Every finished run diverged."
    : `Accuracy at L: ${ranked} (the d = 8 vs d = 64 pair is not complete yet).`;
}

export const page: StudyPage = {
  view(results, context) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const evidence = evidenceOf(series, context.probes ?? new Map(), nameFieldsOf(series, null));
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
        answersPart("p3-answers", ANSWERS, evidence),
        accuracyPart(
          "p3-accuracy",
          "Accuracy against context length: d = 8 against d = 64, by M",
          base,
          "M",
          "Mamba's accuracy against the test context length with d = 8 and d = 64, one panel per M.",
          [{
            heading: "Effect of d",
            sentences: compact([...effectSentences(base, "d"), effectSummary(base, "d"), stateSizeSentence(base)]),
          }],
        ),
        delayed.length === 0
          ? emptyPart("p3-delay", delayTitle, "The delayed run (M = 16, τ = 10) has not finished yet.")
          : accuracyPart(
            "p3-delay",
            delayTitle,
            pairs,
            null,
            `Mamba's accuracy with the longer delay against the same setting with τ = ${BASE_TAU}.`,
            [{
              heading: `Effect of the delay τ`,
              sentences: compact([...effectSentences(pairs, "tau"), effectSummary(pairs, "tau")]),
            }],
          ),
        convergencePart("p3-convergence", "Convergence during training, by M", series, "M"),
      ],
      headline: headline(results, series),
    };
  },
};
