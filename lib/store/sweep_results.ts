/**
 * A sweep's results.json: what it found at the start (the clock it continues, the file it may keep byte for
 * byte), and writing it again from the finished runs, those it trained and those it finds on disk.
 */
import { join } from "node:path";
import { versions } from "../platform/version.ts";
import { type PendingRun, type ProblemResults, type RunResult, SCHEMA_VERSION } from "./results.ts";
import { writeJsonAtomic } from "../platform/atomic_write.ts";
import { readResultsFile } from "./results_file.ts";
import type { PlannedRun } from "./sweep_plan.ts";

/** Where the results go, and what of the results.json found at the start they keep. */
export interface ResultsTarget {
  /** `<dir>/results.json`. */
  readonly path: string;
  readonly problem: string;
  readonly command: string;
  /** When the results began: this invocation, or the earlier one of the same command it resumes. */
  readonly startedAt: string;
  /** Wall seconds of the invocations it resumes. */
  readonly priorWall: number;
  /** performance.now() when this invocation began. */
  readonly t0: number;
  /** The results of the same command this sweep resumes (not --fresh): an invocation that trains nothing keeps
   * their end and wall time. */
  readonly resumed: ProblemResults | null;
  /** results.json as found (not --fresh): kept byte for byte while it holds exactly the runs on disk. */
  readonly same: ProblemResults | null;
  /** Called after results.json is written or kept (e.g. to rebuild the report). */
  readonly onUpdate?: (results: ProblemResults) => Promise<void>;
}

/** results.json as a sweep finds it, and the target it writes to. */
export interface PriorResults {
  /** The file when it is present and valid (a damaged run file may be restored from it). */
  readonly found: ProblemResults | null;
  readonly target: ResultsTarget;
}

/** Read `<dir>/results.json` before a sweep, saying so when it is damaged (it is rebuilt from the run files). */
export async function readPriorResults(
  dir: string,
  opts: { command: string; problem: string; fresh: boolean; onUpdate?: ResultsTarget["onUpdate"] },
  log: (line: string) => void,
): Promise<PriorResults> {
  const path = join(dir, "results.json");
  const state = await readResultsFile(dir);
  if (state.kind === "damaged") log(`${path} ${state.reason}: rebuilding it from the run files`);
  const found = state.kind === "present" ? state.results : null;
  // Resuming the same command continues its clock: the results' start and wall time cover every invocation that
  // trained their runs (an invocation that only skips finished runs adds nothing).
  const resumed = !opts.fresh && found?.command === opts.command ? found : null;
  // A results file that already holds exactly these runs (same keys, same order, same plan), written by any
  // command (say `p1 --jobs 2` before `p1`): an invocation that trains nothing keeps it, provenance included.
  const same = opts.fresh ? null : found;
  const target: ResultsTarget = {
    path,
    problem: opts.problem,
    command: opts.command,
    startedAt: resumed?.startedAt ?? new Date().toISOString(),
    priorWall: resumed?.wallSeconds ?? 0,
    t0: performance.now(),
    resumed,
    same,
    onUpdate: opts.onUpdate,
  };
  return { found, target };
}

/** What a sweep has of its runs: updated as runs finish, read whenever results.json is written. */
export interface Tally {
  /** Per plan position, the finished run (trained here, found on disk, reused), or null. */
  readonly finished: (RunResult | null)[];
  /** Plan positions this sweep trains or waits for; the others are read from disk at every write. */
  readonly own: ReadonlySet<number>;
  /** Whether this invocation trained a run (then the results' end and wall time move on). */
  trainedHere: boolean;
}

/**
 * Write results.json (the caller holds the results lock): first take in every run not this sweep's own whose file
 * has appeared (`onDisk`), then keep the file found at the start when nothing changed, else write the new one.
 */
export async function writeResults(
  target: ResultsTarget,
  plan: readonly PlannedRun[],
  tally: Tally,
  onDisk: (index: number) => Promise<RunResult | null>,
): Promise<ProblemResults> {
  for (const { index } of plan) {
    if (tally.finished[index] === null && !tally.own.has(index)) tally.finished[index] = await onDisk(index);
  }
  const runs = tally.finished.filter((r): r is RunResult => r !== null);
  const same = target.same;
  if (!tally.trainedHere && same !== null && holdsExactly(same, plan.length, runs)) {
    await target.onUpdate?.(same);
    return same;
  }
  const results = resultsOf(target, plan, tally);
  await writeJsonAtomic(target.path, results);
  await target.onUpdate?.(results);
  return results;
}

function holdsExactly(results: ProblemResults, planned: number, runs: readonly RunResult[]): boolean {
  return results.planned === planned && results.runs.length === runs.length &&
    results.runs.every((r, i) => r.key === runs[i].key);
}

/** The results of the runs finished so far, in plan order, naming the others as pending. */
export function resultsOf(target: ResultsTarget, plan: readonly PlannedRun[], tally: Tally): ProblemResults {
  const runs = tally.finished.filter((r): r is RunResult => r !== null);
  const pending: PendingRun[] = plan.filter((r) => tally.finished[r.index] === null).map((r) => ({
    index: r.index,
    key: r.key,
    model: r.job.config.model,
    variant: r.job.variant,
    seed: r.job.config.seed,
  }));
  const kept = tally.trainedHere ? null : target.resumed;
  return {
    schema: SCHEMA_VERSION,
    problem: target.problem,
    command: target.command,
    startedAt: target.startedAt,
    finishedAt: kept?.finishedAt ?? new Date().toISOString(),
    wallSeconds: target.priorWall + (kept === null ? (performance.now() - target.t0) / 1000 : 0),
    cores: navigator.hardwareConcurrency,
    versions: versions(),
    planned: plan.length,
    runs,
    ...(pending.length > 0 ? { pending } : {}),
  };
}
