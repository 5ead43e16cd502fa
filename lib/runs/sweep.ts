/**
 * Sweeps: many independent runs, in parallel subprocesses, resumable and safe to interrupt.
 *
 * - Every config is validated (and keyed) before anything is written.
 * - Each run lives in `<out>/runs/<key>.json`, the key a hash of its full resolved config and seed; a valid
 *   file there means the run is finished and is skipped unless `fresh`.
 * - Each subprocess (lib/cli/run_worker.ts) writes its run file atomically when it finishes; after every
 *   finished run the parent rewrites `<out>/results.json` (finished runs, in the sweep's fixed order) and
 *   calls `onUpdate`, so results and reports are valid at every moment.
 * - SIGINT / SIGTERM stop the workers; finished work stays; the caller exits non-zero.
 */
import { join } from "node:path";
import { type ExperimentConfig, resolve } from "../training/config.ts";
import { runKey, versions } from "../training/experiment.ts";
import { checkProblemResults, checkRunResult, type ProblemResults, type RunResult, SCHEMA_VERSION } from "./results.ts";
import { writeJsonAtomic } from "./atomic_write.ts";
import { ProgressBoard, type RunProgress } from "../cli/progress.ts";

export interface SweepJob {
  readonly variant: string;
  readonly config: ExperimentConfig;
}

export interface SweepOptions {
  readonly problem: "p1" | "p2" | "p3";
  /** Folder of this problem's results (`<out>/pN`). */
  readonly dir: string;
  /** Runs at once (subprocesses). */
  readonly jobs: number;
  /** Retrain runs that are already finished. */
  readonly fresh: boolean;
  /** The command line, recorded in the results. */
  readonly command: string;
  /** Called after results.json is rewritten (e.g. to rebuild the report). */
  readonly onUpdate?: (results: ProblemResults) => Promise<void>;
  readonly board?: ProgressBoard;
}

/** Thrown when a sweep was stopped by a signal; finished runs are on disk. */
export class SweepInterrupted extends Error {
  constructor(readonly signal: string) {
    super(`interrupted by ${signal}: finished runs are kept; run the same command again to resume`);
    this.name = "SweepInterrupted";
  }
}

/** Thrown when some runs failed (their worker exited with an error); the other runs are saved. */
export class SweepFailures extends Error {
  constructor(readonly count: number) {
    super(`${count} run(s) failed (see the worker errors above); the others are saved; rerun to retry them`);
    this.name = "SweepFailures";
  }
}

/** A finished run file, or null when it is missing, unreadable, invalid or for another key. */
export async function readFinishedRun(path: string, key: string): Promise<RunResult | null> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    checkRunResult(parsed);
    return parsed.key === key ? parsed : null;
  } catch {
    return null;
  }
}

/** The results file of an earlier invocation of the same command, or null. */
async function readPriorResults(path: string, command: string): Promise<ProblemResults | null> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    checkProblemResults(parsed);
    return parsed.command === command ? parsed : null;
  } catch {
    return null;
  }
}

const WORKER = new URL("../cli/run_worker.ts", import.meta.url).pathname;

interface WorkerMessage {
  readonly type: "progress" | "done";
  readonly step?: number;
  readonly steps?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly stepsPerSecond?: number;
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) onLine(buffer);
}

/** Run the sweep; returns the results of every finished run (all of them unless interrupted). */
export async function runSweep(jobs: readonly SweepJob[], opts: SweepOptions): Promise<ProblemResults> {
  const resolved = jobs.map((j) => resolve(j.config)); // validation before any disk write
  const keys = await Promise.all(resolved.map(runKey));
  const board = opts.board ?? new ProgressBoard();
  const runsDir = join(opts.dir, "runs");
  // Resuming the same command continues its clock: the results' start and wall time cover every invocation that
  // trained their runs (an invocation that only skips finished runs adds nothing).
  const prior = opts.fresh ? null : await readPriorResults(join(opts.dir, "results.json"), opts.command);
  const startedAt = prior?.startedAt ?? new Date().toISOString();
  const priorWall = prior?.wallSeconds ?? 0;
  let trainedHere = false;
  const t0 = performance.now();
  const finished: (RunResult | null)[] = jobs.map(() => null);
  const label = (i: number): string => `${resolved[i].model} ${jobs[i].variant}`.trim();

  async function publish(): Promise<ProblemResults> {
    const results: ProblemResults = {
      schema: SCHEMA_VERSION,
      problem: opts.problem,
      command: opts.command,
      startedAt,
      finishedAt: trainedHere || !prior ? new Date().toISOString() : prior.finishedAt,
      wallSeconds: priorWall + (trainedHere || !prior ? (performance.now() - t0) / 1000 : 0),
      cores: navigator.hardwareConcurrency,
      versions: versions(),
      planned: jobs.length,
      runs: finished.filter((r): r is RunResult => r !== null),
    };
    await writeJsonAtomic(join(opts.dir, "results.json"), results);
    await opts.onUpdate?.(results);
    return results;
  }

  const pending: number[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const done = opts.fresh ? null : await readFinishedRun(join(runsDir, `${keys[i]}.json`), keys[i]);
    if (done) {
      finished[i] = done;
      board.log(`[${i + 1}/${jobs.length}] ${label(i)}: finished run found (${keys[i]}), skipped; --fresh retrains`);
    } else pending.push(i);
  }
  await Deno.mkdir(runsDir, { recursive: true });

  const children = new Set<Deno.ChildProcess>();
  let interrupted: string | null = null;
  const onSignal = (signal: Deno.Signal) => () => {
    if (interrupted) return;
    interrupted = signal;
    board.log(`${signal}: stopping ${children.size} running job(s); finished runs are kept`);
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);

  let failures = 0;
  async function runOne(i: number): Promise<void> {
    const file = join(runsDir, `${keys[i]}.json`);
    board.log(`[${i + 1}/${jobs.length}] ${label(i)}: training (key ${keys[i]})`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", WORKER],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.add(child);
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(JSON.stringify({ config: jobs[i].config, variant: jobs[i].variant, file })),
    );
    await writer.close();
    await readLines(child.stdout, (line) => {
      let msg: WorkerMessage;
      try {
        msg = JSON.parse(line);
      } catch {
        return board.log(line);
      }
      if (msg.type === "progress") {
        const p: RunProgress = {
          label: label(i),
          index: i + 1,
          total: jobs.length,
          step: msg.step!,
          steps: msg.steps!,
          loss: msg.loss!,
          accuracy: msg.accuracy!,
          stepsPerSecond: msg.stepsPerSecond!,
        };
        board.update(p);
      }
    });
    const status = await child.status;
    children.delete(child);
    board.finish(i + 1);
    // A run whose file is complete counts, even if a signal arrived while it was being written.
    const run = status.success || interrupted ? await readFinishedRun(file, keys[i]) : null;
    if (!run && interrupted) return;
    if (!run) {
      failures++;
      board.log(`[${i + 1}/${jobs.length}] ${label(i)}: FAILED (worker exit code ${status.code})`);
      return;
    }
    finished[i] = run;
    trainedHere = true;
    const where = run.status === "converged"
      ? `converged at step ${run.convergedStep}`
      : run.status === "diverged"
      ? `DIVERGED at step ${run.divergedStep}`
      : `did not converge within ${run.stepsRun} steps`;
    board.log(
      `[${i + 1}/${jobs.length}] ${label(i)}: ${where}; accuracy at L ${
        (100 * (run.accuracyByLength.find((a) => a.length === run.config.L)?.accuracy ?? NaN)).toFixed(1)
      }% (${run.timing.trainSeconds.toFixed(0)} s)`,
    );
    await publish();
  }

  try {
    const queue = [...pending];
    const lanes = Array.from({ length: Math.max(1, Math.min(opts.jobs, queue.length)) }, async () => {
      while (queue.length > 0 && !interrupted) await runOne(queue.shift()!);
    });
    await Promise.all(lanes);
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    board.close();
  }
  const results = await publish();
  if (interrupted) throw new SweepInterrupted(interrupted);
  if (failures > 0) throw new SweepFailures(failures);
  return results;
}
