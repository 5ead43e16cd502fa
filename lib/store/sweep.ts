/**
 * Sweeps: many independent runs, in parallel subprocesses, resumable, safe to interrupt and safe to share.
 *
 * - Every config is validated (and keyed) before anything is written (lib/store/sweep_plan.ts).
 * - Each run lives in `<dir>/runs/<key>.json` (lib/store/run_key.ts); a valid file there means the run is
 *   finished and is skipped unless `fresh`. A damaged one is named, moved aside as `.corrupt` and retrained.
 * - The lanes (`jobs` of them) take runs from a work source (lib/store/work_source.ts). The default one claims a
 *   pending run first (`<key>.claim`, lib/store/claims.ts), so two sweeps on one folder (or two machines sharing
 *   it) never train the same run: each trains what is unclaimed, then waits for the runs others hold, taking over
 *   any whose holder died.
 * - Each subprocess (lib/store/run_worker.ts, started by lib/store/run_process.ts) writes its run file atomically
 *   when it finishes; after every finished run the parent rewrites `<dir>/results.json` and calls `onUpdate`, so
 *   results and reports are valid at every moment. results.json holds every planned run that has a run file,
 *   whoever trained it (another shard, another sweep), in the sweep's fixed order, and lists the others as
 *   `pending` (lib/store/sweep_results.ts); it is written under `<dir>/results.json.lock` (lib/store/file_lock.ts)
 *   after reading the run files, so whichever sweep or shard writes last has seen every run file and leaves the
 *   merged, complete file.
 * - SIGINT / SIGTERM stop the workers (lib/store/sweep_stop.ts); finished work stays; the caller exits non-zero.
 */
import { join } from "node:path";
import type { ProblemResults, RunResult } from "./results.ts";
import { isWriteFailure } from "../platform/atomic_write.ts";
import type { SweepReporter } from "./progress.ts";
import type { SweepJob } from "./job.ts";
import { finishedOnDisk, freshMarker, type PlannedRun, planRuns, type Scan, scanRuns } from "./sweep_plan.ts";
import { readPriorResults, type ResultsTarget, type Tally, writeResults } from "./sweep_results.ts";
import { trainInWorker, type WorkerOutcome } from "./run_process.ts";
import { claimedSource, type Sharing, type WorkSource } from "./work_source.ts";
import { SweepStop } from "./sweep_stop.ts";
import { outcomeText, timeLeftText } from "./sweep_text.ts";

export type { SweepJob };
export { hoursText, outcomeText } from "./sweep_text.ts";
export { launcherPids } from "./sweep_stop.ts";
export { aloneSource, claimedSource, type Sharing, type WorkSource } from "./work_source.ts";

export interface SweepOptions {
  /** The problem's id, recorded in results.json. */
  readonly problem: string;
  /** Folder of this problem's results (`<out>/<id>`). */
  readonly dir: string;
  /** Runs at once (subprocesses). */
  readonly jobs: number;
  /** Retrain runs that are already finished (and start runs in progress again from step 0). */
  readonly fresh: boolean;
  /** Seconds between snapshots of a run in progress (lib/training/train_snapshot.ts; default SNAPSHOT_SECONDS). */
  readonly snapshotSeconds?: number;
  /** The command line, recorded in the results. */
  readonly command: string;
  /**
   * Which jobs to train (default all; `key` is the job's run key), e.g. one shard's; the others are neither
   * trained nor waited for, and count when their run file is on disk (written by whoever trained them).
   */
  readonly select?: (job: SweepJob, key: string) => boolean;
  /** Other problems' run folders where a finished run of the same key may already be (it is copied). */
  readonly reuseFrom?: readonly string[];
  /** Called with the key of each run copied from `reuseFrom` (the command's closing line counts them). */
  readonly onReuse?: (key: string) => void;
  /** Called after results.json is rewritten (e.g. to rebuild the report). */
  readonly onUpdate?: (results: ProblemResults) => Promise<void>;
  readonly reporter: SweepReporter;
  /** How often to look again at runs that other sweeps hold (ms). */
  readonly pollMs?: number;
  /**
   * How the runs are shared with other sweeps on the folder (default `claimedSource`: claims and the results
   * lock; `aloneSource` for a process that has the folder to itself).
   */
  readonly sharing?: Sharing;
}

/** Thrown when a sweep was stopped by a signal; finished runs are on disk. */
export class SweepInterrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}: finished runs are kept; run the same command again to resume`);
    this.name = "SweepInterrupted";
  }
}

/** Thrown when a run could not write its files: the sweep stops at once rather than train runs it cannot save. */
export class SweepCannotWrite extends Error {
  constructor(reason: string, notStarted: number) {
    super(
      `stopped: a run could not be saved (${reason}); ${notStarted} run(s) not started; the runs saved before are ` +
        "kept: make room and run the same command again",
    );
    this.name = "SweepCannotWrite";
  }
}

/** Thrown when some runs failed (their worker exited with an error); the other runs are saved. */
export class SweepFailures extends Error {
  constructor(readonly count: number) {
    super(`${count} run(s) failed (see the worker errors above); the others are saved; rerun to retry them`);
    this.name = "SweepFailures";
  }
}

/** Run the sweep; returns the results of every finished run (all of them unless interrupted). */
export async function runSweep(jobs: readonly SweepJob[], opts: SweepOptions): Promise<ProblemResults> {
  const runsDir = join(opts.dir, "runs");
  const plan = await planRuns(jobs, runsDir);
  const log = (line: string) => opts.reporter.log(line);
  const prior = await readPriorResults(opts.dir, opts, log);
  await Deno.mkdir(runsDir, { recursive: true });
  // --fresh retrains what was written before it began; a run file written since by a concurrent --fresh sweep on
  // this host (its marker names its start) is already fresh, so two such sweeps share the work.
  const fresh = opts.fresh ? await freshMarker(runsDir) : null;
  const scan = await scanRuns(plan, {
    runsDir,
    fresh: opts.fresh,
    select: opts.select,
    reuseFrom: opts.reuseFrom,
    onReuse: opts.onReuse,
    found: prior.found,
    resultsPath: prior.target.path,
    freshSince: fresh?.since ?? null,
    log,
  });
  const sweep = startSweep(plan, opts, prior.target, scan);
  try {
    if (sweep.source.left().length > 0) log(timeLeft(sweep));
    await runLanes(sweep);
  } finally {
    sweep.stop.dispose();
    if (fresh !== null) await Deno.remove(fresh.marker).catch(() => {});
    opts.reporter.close();
  }
  return await closeSweep(sweep);
}

/** One sweep under way: what the steps below share. */
interface Sweep {
  readonly plan: readonly PlannedRun[];
  readonly opts: SweepOptions;
  readonly target: ResultsTarget;
  readonly tally: Tally;
  readonly source: WorkSource;
  readonly stop: SweepStop;
  /** The finished run in a run's file, or null (for --fresh, only a file newer than the one it replaces). */
  readonly onDisk: (index: number) => Promise<RunResult | null>;
  /** Runs whose worker failed. */
  failures: number;
  /** Why this sweep cannot write its files (disk full, read-only), once a run found out: no further run starts. */
  cannotWrite: string | null;
}

/** The sweep's state after the scan; from here on a signal stops it. */
function startSweep(plan: readonly PlannedRun[], opts: SweepOptions, target: ResultsTarget, scan: Scan): Sweep {
  const log = (line: string) => opts.reporter.log(line);
  const onDisk = (index: number) => finishedOnDisk(plan[index], scan.replacing);
  const lockPath = join(opts.dir, "results.json.lock");
  const source = (opts.sharing ?? claimedSource)({
    plan,
    pending: scan.pending,
    finishedOnDisk: onDisk,
    lockPath,
    log,
  });
  const tally: Tally = { finished: scan.finished, own: new Set(scan.pending), trainedHere: false };
  return { plan, opts, target, tally, source, stop: new SweepStop(log), onDisk, failures: 0, cannotWrite: null };
}

/** `jobs` lanes at once (no more than there are runs to train; one when there are none). */
async function runLanes(sweep: Sweep): Promise<void> {
  const lanes = Math.max(1, Math.min(sweep.opts.jobs, sweep.source.left().length));
  await Promise.all(Array.from({ length: lanes }, () => lane(sweep)));
}

/** One lane: take work until none is left, the sweep is stopped, or it can no longer write its files. */
async function lane(sweep: Sweep): Promise<void> {
  while (!sweep.stop.reason && sweep.cannotWrite === null && sweep.source.left().length > 0) {
    const work = await sweep.source.next();
    if (work.kind === "none") return;
    if (work.kind === "run") await trainOne(sweep, sweep.plan[work.index]);
    else if (work.kind === "found") await recordFound(sweep, sweep.plan[work.index], work.run);
    else {
      if (work.note !== null) sweep.opts.reporter.log(work.note);
      await sweep.stop.sleep(sweep.opts.pollMs ?? 2000);
    }
  }
}

/** Train `run` in its worker, then record it, or its failure. */
async function trainOne(sweep: Sweep, run: PlannedRun): Promise<void> {
  const { reporter, snapshotSeconds } = sweep.opts;
  reporter.log(`${run.tag}: training (key ${run.key})`);
  const workers = sweep.stop.workers;
  const outcome = await trainInWorker(run, { total: sweep.plan.length, reporter, snapshotSeconds, workers });
  // A run whose file is complete counts, even if a signal arrived while it was being written.
  const result = outcome.status.success || sweep.stop.reason ? await sweep.onDisk(run.index) : null;
  await sweep.source.release(run.index);
  if (result) await recordTrained(sweep, run, result);
  else if (!sweep.stop.reason) recordFailure(sweep, run, outcome);
}

/** A run trained here: into results.json, with the whole sweep's time left. */
async function recordTrained(sweep: Sweep, run: PlannedRun, result: RunResult): Promise<void> {
  sweep.tally.finished[run.index] = result;
  sweep.tally.trainedHere = true;
  sweep.opts.reporter.log(`${run.tag}: ${outcomeText(result)} (${result.timing.trainSeconds.toFixed(0)} s)`);
  if (sweep.source.left().length > 0) sweep.opts.reporter.log(timeLeft(sweep));
  await publish(sweep);
}

/** A run another sweep finished while this one waited for it: into results.json. */
async function recordFound(sweep: Sweep, run: PlannedRun, result: RunResult): Promise<void> {
  sweep.tally.finished[run.index] = result;
  sweep.opts.reporter.log(`${run.tag}: finished by another sweep (${run.key})`);
  await publish(sweep);
}

/** A run whose worker failed: one line; a worker that could not write its files stops the sweep. */
function recordFailure(sweep: Sweep, run: PlannedRun, { status, failure }: WorkerOutcome): void {
  sweep.failures++;
  sweep.opts.reporter.log(
    `${run.tag}: FAILED: ${failure?.text ?? `worker exit code ${status.code}`}` +
      (failure?.trace ? ` (trace in ${failure.trace})` : ""),
  );
  if (failure?.write === true) sweep.cannotWrite ??= failure.text ?? "a write failed";
}

/** The whole sweep's time left, from the runs the source has not given out yet. */
function timeLeft(sweep: Sweep): string {
  const notStarted = sweep.source.left().map((i) => sweep.plan[i].job.config);
  const finished = sweep.tally.finished.filter((r) => r !== null).length;
  return timeLeftText(notStarted, finished, sweep.plan.length, sweep.opts.jobs);
}

/**
 * Write results.json while no other sharer does; null when the disk refuses the write, which stops the sweep
 * (`cannotWrite`) instead of ending it in the middle of a run.
 */
async function publish(sweep: Sweep): Promise<ProblemResults | null> {
  try {
    return await sweep.source.exclusive(() => writeResults(sweep.target, sweep.plan, sweep.tally, sweep.onDisk));
  } catch (e) {
    if (!isWriteFailure(e)) throw e;
    sweep.cannotWrite ??= String((e as Error).message).split("\n")[0];
    return null;
  }
}

/** The last write of results.json, then the sweep's outcome: its results, or why it stopped. */
async function closeSweep(sweep: Sweep): Promise<ProblemResults> {
  const results = sweep.cannotWrite === null ? await publish(sweep) : null;
  if (sweep.cannotWrite !== null || results === null) {
    // The run files written before stay; results.json may be out of date until the same command runs again.
    const reason = sweep.cannotWrite ?? "results.json could not be written";
    throw new SweepCannotWrite(reason, sweep.source.left().length);
  }
  if (sweep.stop.reason) throw new SweepInterrupted(sweep.stop.reason);
  if (sweep.failures > 0) throw new SweepFailures(sweep.failures);
  return results;
}
