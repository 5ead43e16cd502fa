/**
 * How a run that did not converge ended, in words that never claim more than the budget showed: "not converged
 * within N steps; its last fifth of checks averaged x% (lo–hi%)" (lib/training/plateau.ts: no longer improving) or
 * "still improving at N steps (x%)" (stopped at its largest cap while still rising). Never "cannot" or "fails": a run
 * only says what happened within the steps it ran. The last fifth's mean and range, not its best check, describe
 * where a run sits: a run whose checks swing between 81% and 100% is neither "at 100%" nor "not learned".
 */
import type { RunResult } from "../store/results.ts";
import { recentCount } from "../training/plateau.ts";
import { collapsed } from "../recipes/protocol.ts";
import { listText, pct, steps } from "./format.ts";

function lastAccuracy(r: RunResult): number | null {
  const h = r.history.filter((p) => Number.isFinite(p.accuracy));
  return h.length === 0 ? null : h[h.length - 1].accuracy;
}

function stepsText(runs: readonly RunResult[]): string {
  return listText([...new Set(runs.map((r) => r.stepsRun))].sort((a, b) => a - b).map(steps));
}

/** The mean, lowest and highest held-out accuracy of a run's last fifth of checks, or null without checks. */
export function lastFifth(r: RunResult): { mean: number; lo: number; hi: number } | null {
  const acc = r.history.map((p) => p.accuracy).filter((a) => Number.isFinite(a));
  if (acc.length === 0) return null;
  const recent = acc.slice(acc.length - recentCount(acc.length));
  return {
    mean: recent.reduce((a, b) => a + b, 0) / recent.length,
    lo: Math.min(...recent),
    hi: Math.max(...recent),
  };
}

function fifthText(f: { mean: number; lo: number; hi: number }): string {
  return pct(f.lo) === pct(f.hi) ? pct(f.mean) : `${pct(f.mean)} (${pct(f.lo).replace("%", "")}–${pct(f.hi)})`;
}

/**
 * "not converged within 20,000 steps; the last fifth of its checks on the test batch averaged 18.8% (17.2–20.3%)"
 * for one or several runs (several: their averages, listed).
 */
export function plateauedText(runs: readonly RunResult[]): string {
  const fifths = runs.map(lastFifth).filter((x): x is NonNullable<typeof x> => x !== null);
  const whose = runs.length === 1 ? "its" : "their";
  const at = fifths.length === 0
    ? ""
    : `; the last fifth of ${whose} checks on the test batch averaged ${
      fifths.length === 1 ? fifthText(fifths[0]) : listText(fifths.map((f) => pct(f.mean)))
    }`;
  return `not converged within ${stepsText(runs)} steps${at}`;
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

/**
 * "k of n seeds converged and then collapsed (ending at 5.3%, 6.4%)" for the runs among `runs` that reached 99% and
 * ended more than 20 points below their best (lib/recipes/protocol.ts `collapsed`); null when none did.
 */
export function collapsedText(runs: readonly RunResult[], total: number): string | null {
  const fell = runs.filter((r) => r.convergedStep !== null && collapsed(r.history));
  if (fell.length === 0) return null;
  const who = fell.length === total ? (total === 1 ? "" : `all ${total} seeds `) : `${fell.length} of ${total} seeds `;
  return `${who}converged and then collapsed (ending at ${listText(fell.map((r) => pct(lastAccuracy(r) ?? NaN)))})`;
}

/** A run's ending in a few words, for table cells and hover titles. */
export function endingOf(r: RunResult): string {
  if (r.verdict === "converged" && collapsed(r.history)) {
    return `converged at ${steps(r.convergedStep ?? r.stepsRun)}, then collapsed (${
      pct(lastAccuracy(r) ?? NaN)
    } at the end)`;
  }
  if (r.verdict === "converged") return "converged";
  if (r.verdict === "diverged") return `diverged at ${steps(r.divergedStep ?? r.stepsRun)}`;
  if (r.verdict === "plateaued") {
    const f = lastFifth(r);
    return `not converged within ${steps(r.stepsRun)} steps${
      f === null ? "" : `; last fifth of checks ${fifthText(f)}`
    }`;
  }
  return `still improving at ${steps(r.stepsRun)} steps`;
}
