/**
 * How a run that did not converge ended, in words that never claim more than the budget showed: "not learned
 * within N steps, plateaued at x%" (lib/training/plateau.ts: no longer improving) or "still improving at N
 * steps (x%)" (stopped at its largest cap while still rising). Never "cannot" or "fails": a run only says what
 * happened within the steps it ran.
 */
import type { RunResult } from "../store/results.ts";
import { plateauLevel } from "../training/plateau.ts";
import { listText, pct, steps } from "./format.ts";

function lastAccuracy(r: RunResult): number | null {
  const h = r.history.filter((p) => Number.isFinite(p.accuracy));
  return h.length === 0 ? null : h[h.length - 1].accuracy;
}

function stepsText(runs: readonly RunResult[]): string {
  return listText([...new Set(runs.map((r) => r.stepsRun))].sort((a, b) => a - b).map(steps));
}

/** "not learned within 20,000 steps, plateaued at 18.8% on the test batch" for one or several runs. */
export function plateauedText(runs: readonly RunResult[]): string {
  const levels = runs.map((r) => plateauLevel(r.history)).filter((x): x is number => x !== null);
  const at = levels.length === 0 ? "" : `, plateaued at ${listText(levels.map(pct))} on the test batch`;
  return `not learned within ${stepsText(runs)} steps${at}`;
}

/** "still improving at 80,000 steps (70.3% on the test batch)" for one or several runs. */
export function improvingText(runs: readonly RunResult[]): string {
  const last = runs.map(lastAccuracy).filter((x): x is number => x !== null);
  const at = last.length === 0 ? "" : ` (${listText(last.map(pct))} on the test batch)`;
  return `still improving at ${stepsText(runs)} steps${at}`;
}

/**
 * One phrase per kind of unfinished ending among `runs` (runs that converged or diverged are ignored), prefixed
 * with "k of n seeds" when not every one of the `total` seeds ended that way.
 */
export function unfinishedTexts(runs: readonly RunResult[], total: number): string[] {
  const who = (k: number) => (k === total ? "" : `${k} of ${total} seeds `);
  const plateaued = runs.filter((r) => r.verdict === "plateaued");
  const improving = runs.filter((r) => r.verdict === "still improving");
  const out: string[] = [];
  if (plateaued.length > 0) out.push(`${who(plateaued.length)}${plateauedText(plateaued)}`);
  if (improving.length > 0) out.push(`${who(improving.length)}${improvingText(improving)}`);
  return out;
}

/** A run's ending in a few words, for table cells and hover titles. */
export function endingOf(r: RunResult): string {
  if (r.verdict === "converged") return "converged";
  if (r.verdict === "diverged") return `diverged at ${steps(r.divergedStep ?? r.stepsRun)}`;
  if (r.verdict === "plateaued") {
    const level = plateauLevel(r.history);
    return `not learned within ${steps(r.stepsRun)} steps${level === null ? "" : `, plateaued at ${pct(level)}`}`;
  }
  return `still improving at ${steps(r.stepsRun)} steps`;
}
