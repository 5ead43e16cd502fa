/**
 * What a set of finished runs cost, from their own timing fields: for the wall time of a suite whose sweeps were
 * resumed, paused or run in pieces (where no single clock covers it).
 *
 * - `ownSeconds`: training plus evaluation as each run recorded it (wall clock of its process, so any time the
 *   machine was shared with more than the sweep's jobs, or the process was paused, is included: an upper figure).
 * - `stepSeconds`: steps run x the run's median step time, plus evaluation (no pauses, no held-out checks: a
 *   lower figure).
 *
 * A run shared by two problems (the same key in both folders) is counted once.
 */
import type { RunResult } from "./results.ts";

export interface RunTime {
  readonly runs: number;
  readonly ownSeconds: number;
  readonly stepSeconds: number;
}

/** The cost of `runs`, each distinct key once. */
export function runTime(runs: readonly RunResult[]): RunTime {
  const byKey = new Map<string, RunResult>();
  for (const r of runs) if (!byKey.has(r.key)) byKey.set(r.key, r);
  let ownSeconds = 0, stepSeconds = 0;
  for (const r of byKey.values()) {
    ownSeconds += r.timing.trainSeconds + r.timing.evalSeconds;
    stepSeconds += (r.stepsRun * r.timing.medianStepMs) / 1000 + r.timing.evalSeconds;
  }
  return { runs: byKey.size, ownSeconds, stepSeconds };
}

/** One line: both figures in minutes, and each divided by `jobs` (runs at once). */
export function runTimeText(t: RunTime, jobs: number): string {
  const min = (s: number): string => (s / 60).toFixed(1);
  return `${t.runs} distinct runs: their own time ${min(t.ownSeconds)} min (train + eval; ${
    min(t.ownSeconds / jobs)
  } at ${jobs} jobs), steps x median step + eval ${min(t.stepSeconds)} min (${
    min(t.stepSeconds / jobs)
  } at ${jobs} jobs)`;
}
