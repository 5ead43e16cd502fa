/**
 * Answers to the assignment's sub-questions: each a question and a list of claims. A claim reads the evidence
 * (series and probes, lib/site/evidence.ts) and returns its sentences, or none when the data does not
 * support it, so no sentence is attached to a model whose numbers contradict it. A problem's view lists its
 * answers; `answersPart` turns them into the first part of its page, one paragraph per sub-question.
 */
import type { Evidence } from "./evidence.ts";
import { type Series, SETTING_FIELDS, valuesOf } from "./series.ts";
import type { FindingGroup, Part } from "./view.ts";

/** A mechanism claim: sentences tied to numbers of the evidence, or [] when the data does not support it. */
export type Claim = (e: Evidence) => readonly string[];

/** One sub-question of the assignment and the claims that answer it. */
export interface Answer {
  /** e.g. "(a) τ = 1: accuracy and length generalisation". */
  readonly question: string;
  readonly claims: readonly Claim[];
}

/** One paragraph per claim that has something to say (its sentences joined), in order. */
export function answerSentences(answer: Answer, e: Evidence): string[] {
  return answer.claims.map((claim) => claim(e).join(" ")).filter((p) => p.length > 0);
}

/** The paragraphs of each sub-question; sub-questions whose claims all say nothing get a line saying so. */
export function answerGroups(answers: readonly Answer[], e: Evidence): FindingGroup[] {
  return answers.map((a) => {
    const sentences = answerSentences(a, e);
    return {
      heading: a.question,
      sentences: sentences.length > 0 ? sentences : ["Not enough finished runs yet to answer this."],
      paragraph: true,
    };
  });
}

/** The answers as a page part (no chart), placed before the charts. */
export function answersPart(id: string, answers: readonly Answer[], e: Evidence): Part {
  return {
    id,
    title: "Answers to the assignment's questions",
    chart: null,
    findings: answerGroups(answers, e),
    note: null,
  };
}

/**
 * The claims applied to the series that `keep` selects only (e.g. one delay's); names drop the fields that no
 * longer vary among them ("tf-rope", not "tf-rope (τ = 1)", under a question about τ = 1).
 */
export function within(keep: (s: Series) => boolean, ...claims: readonly Claim[]): Claim[] {
  return claims.map((claim) => (e: Evidence) => {
    const series = e.series.filter(keep);
    const fixed = SETTING_FIELDS.filter((f) => f !== "model" && valuesOf(series, f).length <= 1);
    return claim({ ...e, series, name: (s, omit = []) => e.name(s, [...omit, ...fixed]) });
  });
}
