/**
 * A sweep's plan and what is on disk for it: every job with its run key and run file, and, before any training,
 * which runs are finished (a valid run file, one restored from results.json, one reused from another problem's
 * folder) and which are left to train. Nothing here trains, claims or waits (lib/store/sweep.ts and
 * its work source, lib/store/work_source.ts, do).
 */
import { join } from "node:path";
import { resolve } from "../training/config.ts";
import { runKey } from "./run_key.ts";
import type { ProblemResults, RunResult } from "./results.ts";
import { writeJsonAtomic } from "../platform/atomic_write.ts";
import { removeSnapshot, snapshotPath } from "../training/train_snapshot.ts";
import { copyCompanions, moveAside, readRunFile, type RunFileState } from "./run_file.ts";
import { hostName, pidAlive } from "./claims.ts";
import type { SweepJob } from "./job.ts";

/** One planned run: its place in the plan, its job, its key and its file. */
export interface PlannedRun {
  /** Position in the plan (0-based). */
  readonly index: number;
  readonly job: SweepJob;
  readonly key: string;
  /** `<runs>/<key>.json`. */
  readonly file: string;
  /** "mamba tau=5": the model and the variant. */
  readonly label: string;
  /** "[3/10] mamba tau=5": how the sweep's lines name the run. */
  readonly tag: string;
}

/** Validate every job (before any disk write) and key it; the runs' files are in `runsDir`. */
export async function planRuns(jobs: readonly SweepJob[], runsDir: string): Promise<PlannedRun[]> {
  jobs.forEach((j) => resolve(j.config)); // validation before any disk write
  const keys = await Promise.all(jobs.map((j) => runKey(j.config)));
  return jobs.map((job, index) => {
    const label = `${job.config.model} ${job.variant}`.trim();
    const file = join(runsDir, `${keys[index]}.json`);
    return { index, job, key: keys[index], file, label, tag: `[${index + 1}/${jobs.length}] ${label}` };
  });
}

/** How the runs on disk are read before a sweep starts. */
export interface ScanOptions {
  readonly runsDir: string;
  /** Retrain finished runs (--fresh). */
  readonly fresh: boolean;
  /** Which runs this sweep trains (default all); the others are neither trained nor waited for. */
  readonly select?: (job: SweepJob, key: string) => boolean;
  /** Other problems' run folders where a finished run of the same key may already be (it is copied). */
  readonly reuseFrom?: readonly string[];
  /** Called with the key of each run copied from `reuseFrom`. */
  readonly onReuse?: (key: string) => void;
  /** results.json as found, which may still hold a run whose file is damaged. */
  readonly found: ProblemResults | null;
  readonly resultsPath: string;
  /** --fresh: when the earliest --fresh sweep alive on this host began (run files since then are fresh). */
  readonly freshSince: number | null;
  readonly log: (line: string) => void;
}

/** What a sweep finds on disk before it trains. */
export interface Scan {
  /** Per plan position, the finished run, or null. */
  readonly finished: (RunResult | null)[];
  /** Plan positions this sweep trains (or waits for, when another sweep holds them), in order. */
  readonly pending: number[];
  /**
   * For --fresh, the modification time (null: no file) of each pending run's file when the sweep began, so a file
   * another sweep writes meanwhile can be told from the old one.
   */
  readonly replacing: Map<number, number | null>;
}

/** Read every planned run's file in order, saying what is skipped, restored, reused or retrained. */
export async function scanRuns(plan: readonly PlannedRun[], opts: ScanOptions): Promise<Scan> {
  const scan: Scan = { finished: plan.map(() => null), pending: [], replacing: new Map() };
  for (const run of plan) {
    const found = await scanRun(run, opts);
    if (found.kind === "finished") scan.finished[run.index] = found.run;
    if (found.kind !== "pending") continue;
    if (opts.fresh) scan.replacing.set(run.index, found.replacing);
    scan.pending.push(run.index);
  }
  return scan;
}

type ScanOutcome =
  | { readonly kind: "finished"; readonly run: RunResult }
  | { readonly kind: "not selected" }
  | { readonly kind: "pending"; readonly replacing: number | null };

async function scanRun(run: PlannedRun, opts: ScanOptions): Promise<ScanOutcome> {
  const state = await readOrRestore(run, opts);
  if (state.kind === "finished" && !opts.fresh) {
    opts.log(`${run.tag}: finished run found (${run.key}), skipped; --fresh retrains`);
    return state;
  }
  if (state.kind === "missing" && !opts.fresh) {
    const reused = await reuse(run, opts);
    if (reused) return { kind: "finished", run: reused };
  }
  if (opts.select && !opts.select(run.job, run.key)) return { kind: "not selected" };
  const written = state.kind === "finished" ? await mtime(run.file) : null;
  if (opts.freshSince !== null && state.kind === "finished" && written !== null && written >= opts.freshSince) {
    opts.log(`${run.tag}: retrained by a concurrent --fresh sweep (${run.key}), skipped`);
    return state;
  }
  if (!opts.fresh) return { kind: "pending", replacing: null };
  const replacing = await mtime(run.file);
  await removeSnapshot(snapshotPath(run.file)); // --fresh: no resuming either
  return { kind: "pending", replacing };
}

/** The run's file; a damaged one is moved aside and, when results.json still holds the run, restored from it. */
async function readOrRestore(run: PlannedRun, opts: ScanOptions): Promise<RunFileState> {
  const state = await readRunFile(run.file, run.key);
  if (state.kind !== "damaged") return state;
  const aside = await moveAside(run.file);
  const kept = opts.found?.runs.find((r) => r.key === run.key);
  if (kept === undefined) {
    opts.log(`${run.tag}: ${run.file} ${state.reason}; moved aside to ${aside}; retraining it`);
    return state;
  }
  await writeJsonAtomic(run.file, kept);
  opts.log(`${run.tag}: ${run.file} ${state.reason}; moved aside to ${aside}; restored from ${opts.resultsPath}`);
  return { kind: "finished", run: kept };
}

/**
 * A finished run of the same key in another problem's folder, copied here under this sweep's variant, with the
 * files beside it (its checkpoint, its probe) so this problem's probes and reports find them too. The run file
 * is written last, as a worker does: a run file here always has its checkpoint beside it when the source had one.
 */
async function reuse(run: PlannedRun, opts: ScanOptions): Promise<RunResult | null> {
  for (const dir of opts.reuseFrom ?? []) {
    const state = await readRunFile(join(dir, `${run.key}.json`), run.key);
    if (state.kind !== "finished") continue;
    const copied = await copyCompanions(dir, opts.runsDir, run.key);
    const reused = { ...state.run, variant: run.job.variant };
    await writeJsonAtomic(run.file, reused);
    const also = copied.length > 0 ? ` with its ${copied.join(" and ")}` : "";
    opts.log(`${run.tag}: finished run found in ${dir} (${run.key}), reused${also}`);
    opts.onReuse?.(run.key);
    return reused;
  }
  return null;
}

/**
 * The run's file when it holds the finished run, or null; for a run --fresh set out to replace (`replacing`), only
 * a file newer than the one it found.
 */
export async function finishedOnDisk(
  run: PlannedRun,
  replacing: ReadonlyMap<number, number | null>,
): Promise<RunResult | null> {
  const state = await readRunFile(run.file, run.key);
  if (state.kind !== "finished") return null;
  if (replacing.has(run.index) && (await mtime(run.file)) === replacing.get(run.index)) return null;
  return state.run;
}

async function mtime(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/**
 * Mark this --fresh sweep in `runsDir` (`.fresh-<host>-<pid>`, its start time) and return the earliest start of the
 * --fresh sweeps alive on this host (its own included): run files written since then are already fresh.
 */
export async function freshMarker(runsDir: string): Promise<{ since: number; marker: string }> {
  const now = Date.now();
  const marker = join(runsDir, `.fresh-${hostName()}-${Deno.pid}`);
  await Deno.writeTextFile(marker, JSON.stringify({ host: hostName(), pid: Deno.pid, since: now }));
  let since = now;
  for await (const e of Deno.readDir(runsDir)) {
    if (!e.name.startsWith(".fresh-")) continue;
    try {
      const m = JSON.parse(await Deno.readTextFile(join(runsDir, e.name)));
      if (m.host === hostName() && pidAlive(m.pid) && Number.isFinite(m.since)) since = Math.min(since, m.since);
    } catch { /* being written or gone */ }
  }
  return { since, marker };
}
