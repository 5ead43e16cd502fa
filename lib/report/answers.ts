/**
 * Answers to the assignment's sub-questions: each a question and a list of claims. A claim reads the evidence
 * (series and probes, lib/report/evidence.ts) and returns its sentences, or none when the data does not
 * support it, so no sentence is attached to a model whose numbers contradict it. A problem's view lists its
 * answers; `answersPart` turns them into the first part of its page, one paragraph per sub-question.
 */
import type { Evidence } from "./evidence.ts";
import type { Series } from "./series.ts";
import type { FindingGroup, Part } from "./view.ts";

/** A mechanism claim: sentences tied to numbers of the evidence, or [] when the data does not support it. */
export type Claim = (e: Evidence) => readonly string[];

/** One sub-question of the assignment and the claims that answer it. */
export interface Answer {
  /** e.g. "(a) τ = 1: accuracy and length generalisation". */
  readonly question: string;
  readonly claims: readonly Claim[];
}

/** The sentences of every claim of an answer, in order. */
export function answerSentences(answer: Answer, e: Evidence): string[] {
  return answer.claims.flatMap((claim) => [...claim(e)]);
}

/** One paragraph per sub-question; sub-questions whose claims all say nothing get a line saying so. */
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

/** The claims applied to the series that `keep` selects only (e.g. one delay's). */
export function within(keep: (s: Series) => boolean, ...claims: readonly Claim[]): Claim[] {
  return claims.map((claim) => (e: Evidence) => claim({ ...e, series: e.series.filter(keep) }));
}
