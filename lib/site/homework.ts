/**
 * Homeworks: which registered problems go into which PDF report. A problem names its homework in its own
 * definition (`homework` in studies/<id>/study.ts); this groups the registry by it, so no problem id is written here.
 */
import type { ProblemDefinition } from "./pages.ts";
import type { ProblemResults } from "../store/results.ts";
import { listText } from "./format.ts";

/** The course the homeworks belong to, for the title block. */
export const COURSE = "ECE 498/598, Fall 2024";

/** One homework: its number and the problems it grades, in index order. */
export interface Homework {
  readonly number: number;
  readonly problems: readonly ProblemDefinition[];
}

/** Every homework some problem names, by number, each with its problems in registry (index) order. */
export function homeworksOf(problems: readonly ProblemDefinition[]): Homework[] {
  const numbers = [...new Set(problems.flatMap((p) => (p.homework === undefined ? [] : [p.homework])))];
  return numbers.sort((a, b) => a - b).map((number) => ({
    number,
    problems: problems.filter((p) => p.homework === number),
  }));
}

/** The PDF's file name, e.g. "hw3.pdf". */
export function homeworkFile(hw: Homework): string {
  return `hw${hw.number}.pdf`;
}

/** The appendix PDF's file name, e.g. "hw3-appendix.pdf" (made when every problem has authored answers). */
export function appendixFile(hw: Homework): string {
  return `hw${hw.number}-appendix.pdf`;
}

/**
 * Whether every problem of the homework has authored answers written for these results (not a quick run's): then its
 * PDF is the answers, the rest an appendix.
 */
export function authored(hw: Homework, results: ReadonlyMap<string, ProblemResults>): boolean {
  return hw.problems.every((p) => {
    const r = results.get(p.id);
    return p.answers !== undefined && r !== undefined && (p.answers.writtenFor?.(r) ?? true);
  });
}

/** "Homework 4: Problems 2 and 3" from the problems' titles (the part before " — "). */
export function homeworkTitle(hw: Homework): string {
  const names = hw.problems.map((p) => p.title.split(" — ")[0]);
  const numbers = names.map((n) => /^Problem (\d+)$/.exec(n)?.[1]);
  const what = names.length > 1 && numbers.every((n) => n !== undefined)
    ? `Problems ${listText(numbers as string[])}`
    : listText(names);
  return `Homework ${hw.number}: ${what}`;
}
