/** The sweep's own lines: a finished run's outcome, and the whole sweep's time left. */
import { accuracyAt, type RunResult } from "./results.ts";
import { estimatedSeconds } from "./run_cost.ts";
import type { ExperimentConfig } from "../training/config.ts";

/** "2 h 05 min", "12 min", "40 s": an estimate's size, no more precise than it is. */
export function hoursText(seconds: number): string {
  if (seconds >= 3600) {
    return `${Math.floor(seconds / 3600)} h ${String(Math.round((seconds % 3600) / 60)).padStart(2, "0")} min`;
  }
  return seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds)} s`;
}

/** "converged at step 400; accuracy at L 99.6%" and the like. */
export function outcomeText(run: RunResult): string {
  const where = run.status === "converged"
    ? `converged at step ${run.convergedStep}`
    : run.status === "diverged"
    ? `DIVERGED at step ${run.divergedStep}`
    : run.verdict === "still improving"
    ? `still improving at ${run.stepsRun} steps (its budget)`
    : `not converged within ${run.stepsRun} steps, no longer improving`;
  const a = accuracyAt(run, run.config.L);
  return `${where}; accuracy at L ${a === null ? "—" : `${(100 * a).toFixed(1)}%`}`;
}

/**
 * The whole sweep's time left: the cost table's estimate of the runs not started (`notStarted`, their configs) over
 * `lanes` runs at once, with how many of the `planned` runs are `finished`.
 */
export function timeLeftText(
  notStarted: readonly ExperimentConfig[],
  finished: number,
  planned: number,
  lanes: number,
): string {
  const left = notStarted.reduce((sum, c) => sum + estimatedSeconds(c), 0) / Math.max(1, lanes);
  return `${finished}/${planned} runs finished; about ${hoursText(left)} of training left for the ` +
    `${notStarted.length} not started (cost table estimate at --jobs ${lanes}, besides the runs in progress)`;
}
