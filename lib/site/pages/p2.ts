/** The page of Problem 2 (M = 4, 8, 16 queries), drawn from its results; the runs are set in studies/p2/study.ts. */
import type { StudyPage } from "../view.ts";

import type { ProblemResults } from "../../store/results.ts";
import { accuracyPart, compact, convergencePart, nameFieldsOf, noRuns, settingText } from "../view.ts";
import { effectSentences, effectSummary, rankingText } from "../findings.ts";
import { fieldText, listText, seriesName } from "../format.ts";
import { groupSeries, type Series, valuesOf } from "../series.ts";
import { type Answer, answersPart, within } from "../answers.ts";
import { architectureOf, evidenceOf } from "../evidence.ts";
import { hybridLookupClaim, ropeOffsetsClaim } from "../claims/attention_claims.ts";
import { perQueryClaim, queriesClaim, recurrenceClaim } from "../claims/mamba_claims.ts";
import { architecturesClaim, capacityClaim } from "../claims/recall_claims.ts";
import { stairsClaim } from "../claims/training_claims.ts";
import { screenConfirmationClaim } from "../claims/recipe_claims.ts";

/** The assignment's three bullets and the claims that answer them. */
const ANSWERS: readonly Answer[] = [
  {
    question: "Mamba for M = 4, 8, 16",
    claims: within(
      (s) => architectureOf(s) === "mamba",
      queriesClaim,
      stairsClaim,
      perQueryClaim,
      recurrenceClaim,
      screenConfirmationClaim,
    ),
  },
  {
    question: "The Transformer (RoPE) for M = 4, 8, 16, against Mamba",
    claims: [
      ...within((s) => architectureOf(s) === "attention", capacityClaim, screenConfirmationClaim, stairsClaim),
      ...within((s) => architectureOf(s) === "attention", perQueryClaim),
      ...within((s) => architectureOf(s) === "attention" && s.d === 8, ropeOffsetsClaim),
      ...within((s) => architectureOf(s) !== "hybrid", architecturesClaim),
    ],
  },
  {
    question: "The Hybrid for M = 4, 8, 16, against both",
    claims: [
      ...within((s) => architectureOf(s) === "hybrid", stairsClaim, perQueryClaim, hybridLookupClaim),
      ...within((s) => architectureOf(s) === "hybrid", screenConfirmationClaim),
      architecturesClaim,
    ],
  },
];

function headline(results: ProblemResults, series: readonly Series[]): string {
  const Ms = valuesOf(series, "M") as number[];
  if (Ms.length === 0) return noRuns(results);
  const M = Ms[Ms.length - 1];
  const group = series.filter((s) => s.M === M);
  const names = nameFieldsOf(group, "M");
  const L = group[0].L;
  const atL = rankingText(group, 1, names);
  const at3 = rankingText(group, 3, names);
  const full = M === group[0].K ? " (full AR)" : "";
  const diverged = group.filter((s) => s.evaluated.length === 0).map((s) => seriesName(s, names));
  const divText = diverged.length === 0 ? "" : `; ${listText(diverged)} diverged`;
  if (atL === null) return `With M = ${M}${full}, every model diverged.`;
  return `With M = ${M} queries${full}, accuracy at L = ${L} is ${atL}; at 3L = ${3 * L} it is ${at3}${divText}.`;
}

export const page: StudyPage = {
  view(results, context) {
    const series = groupSeries(results.runs);
    const t = settingText(series);
    const names = nameFieldsOf(series, "M");
    const evidence = evidenceOf(series, context.probes ?? new Map(), nameFieldsOf(series, null));
    const Ms = valuesOf(series, "M");
    const ranks = Ms.map((M) => {
      const group = series.filter((s) => s.M === M);
      const r = rankingText(group, 1, names), r3 = rankingText(group, 3, names);
      return r === null ? null : `M = ${M}: at L ${r}; at 3L ${r3}.`;
    });
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
        answersPart("p2-answers", ANSWERS, evidence),
        accuracyPart(
          "p2-accuracy",
          "Accuracy against context length, by number of queries M",
          series,
          "M",
          "Accuracy of mamba, tf-rope and hybrid against the test context length, one panel per M.",
          [
            {
              heading: "Effect of M",
              sentences: compact([...effectSentences(series, "M"), effectSummary(series, "M")]),
            },
            { heading: "Models compared at each M (best first)", sentences: compact(ranks) },
          ],
        ),
        convergencePart("p2-convergence", "Convergence during training, by M", series, "M"),
      ],
      headline: headline(results, series),
    };
  },
};
