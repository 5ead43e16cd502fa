/**
 * Sweeps: many independent runs, in parallel subprocesses, resumable, safe to interrupt and safe to share.
 *
 * - Every config is validated (and keyed) before anything is written.
 * - Each run lives in `<dir>/runs/<key>.json` (lib/store/run_key.ts); a valid file there means the run is
 *   finished and is skipped unless `fresh`. A damaged one is named, moved aside as `.corrupt` and retrained.
 * - A pending run is claimed first (`<key>.claim`, lib/store/claims.ts), so two sweeps on one folder (or two
 *   machines sharing it) never train the same run: each trains what is unclaimed, then waits for the runs
 *   others hold, taking over any whose holder died.
 * - Each subprocess (lib/store/run_worker.ts) writes its run file atomically when it finishes; after every
 *   finished run the parent rewrites `<dir>/results.json` and calls `onUpdate`, so results and reports are valid
 *   at every moment. results.json holds every planned run that has a run file, whoever trained it (another
 *   shard, another sweep), in the sweep's fixed order, and lists the others as `pending`; it is written under
 *   `<dir>/results.json.lock` (lib/store/file_lock.ts) after reading the run files, so whichever sweep or shard
 *   writes last has seen every run file and leaves the merged, complete file.
 * - SIGINT / SIGTERM stop the workers; finished work stays; the caller exits non-zero.
 */
import { join } from "node:path";
import { resolve } from "../training/config.ts";
import { runKey } from "./run_key.ts";
import { versions } from "../platform/version.ts";
import { accuracyAt, type PendingRun, type ProblemResults, type RunResult, SCHEMA_VERSION } from "./results.ts";
import { isWriteFailure, writeJsonAtomic } from "../platform/atomic_write.ts";
import { removeSnapshot, snapshotPath } from "../training/train_snapshot.ts";
import { copyCompanions, moveAside, readRunFile } from "./run_file.ts";
import { readResultsFile } from "./results_file.ts";
import { type Claim, hostName, pidAlive, releaseClaim, tryClaim } from "./claims.ts";
import { withFileLock } from "./file_lock.ts";
import { estimatedSeconds } from "./run_cost.ts";
import type { RunProgress, SweepReporter } from "./progress.ts";
import type { SweepJob } from "./job.ts";

export type { SweepJob };

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
  /** Called after results.json is rewritten (e.g. to rebuild the report). */
  readonly onUpdate?: (results: ProblemResults) => Promise<void>;
  readonly reporter: SweepReporter;
  /** How often to look again at runs that other sweeps hold (ms). */
  readonly pollMs?: number;
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

const WORKER = new URL("./run_worker.ts", import.meta.url).pathname;

interface WorkerMessage {
  readonly type: "progress" | "note" | "done" | "failed";
  /** For "failed": whether the worker could not write its files, and where its error's trace went. */
  readonly write?: boolean;
  readonly trace?: string;
  readonly text?: string;
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

async function mtime(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

function holderText(c: Claim | null): string {
  return c === null ? "another sweep" : `pid ${c.pid} on ${c.host} since ${c.startedAt}`;
}

/** Run the sweep; returns the results of every finished run (all of them unless interrupted). */
export async function runSweep(jobs: readonly SweepJob[], opts: SweepOptions): Promise<ProblemResults> {
  jobs.forEach((j) => resolve(j.config)); // validation before any disk write
  const keys = await Promise.all(jobs.map((j) => runKey(j.config)));
  const board = opts.reporter;
  const runsDir = join(opts.dir, "runs");
  const runFile = (i: number) => join(runsDir, `${keys[i]}.json`);
  const claimFile = (i: number) => join(runsDir, `${keys[i]}.claim`);
  const pollMs = opts.pollMs ?? 2000;
  const resultsPath = join(opts.dir, "results.json");
  // Resuming the same command continues its clock: the results' start and wall time cover every invocation that
  // trained their runs (an invocation that only skips finished runs adds nothing).
  const priorState = await readResultsFile(opts.dir);
  if (priorState.kind === "damaged") {
    board.log(`${resultsPath} ${priorState.reason}: rebuilding it from the run files`);
  }
  const prior = !opts.fresh && priorState.kind === "present" && priorState.results.command === opts.command
    ? priorState.results
    : null;
  const startedAt = prior?.startedAt ?? new Date().toISOString();
  const priorWall = prior?.wallSeconds ?? 0;
  let trainedHere = false;
  const t0 = performance.now();
  const finished: (RunResult | null)[] = jobs.map(() => null);
  const label = (i: number): string => `${jobs[i].config.model} ${jobs[i].variant}`.trim();
  const tag = (i: number): string => `[${i + 1}/${jobs.length}] ${label(i)}`;

  // A results file that already holds exactly these runs (same keys, same order, same plan), written by any command
  // (say `p1 --jobs 2` before `p1`): an invocation that trains nothing keeps it byte for byte, provenance included.
  const same = !opts.fresh && priorState.kind === "present" ? priorState.results : null;
  // The runs this sweep trains or waits for; the others are read from disk at every publish.
  const own = new Set<number>();
  const lockPath = join(opts.dir, "results.json.lock");
  /** Why this sweep cannot write its files (disk full, read-only), once a run found out: no further run starts. */
  let cannotWrite: string | null = null;
  /**
   * Write results.json; null when the disk refuses the write, which stops the sweep (`cannotWrite`) instead of
   * ending it in the middle of a run.
   */
  async function publish(): Promise<ProblemResults | null> {
    try {
      return await withFileLock(lockPath, publishLocked, { log: (line) => board.log(line) });
    } catch (e) {
      if (!isWriteFailure(e)) throw e;
      cannotWrite ??= String((e as Error).message).split("\n")[0];
      return null;
    }
  }
  async function publishLocked(): Promise<ProblemResults> {
    for (let i = 0; i < jobs.length; i++) {
      if (finished[i] === null && !own.has(i)) finished[i] = await finishedElsewhere(i);
    }
    const runs = finished.filter((r): r is RunResult => r !== null);
    if (
      !trainedHere && same !== null && same.planned === jobs.length && same.runs.length === runs.length &&
      same.runs.every((r, i) => r.key === runs[i].key)
    ) {
      await opts.onUpdate?.(same);
      return same;
    }
    const pendingRuns: PendingRun[] = [];
    jobs.forEach((j, i) => {
      if (finished[i] !== null) return;
      pendingRuns.push({ index: i, key: keys[i], model: j.config.model, variant: j.variant, seed: j.config.seed });
    });
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
      runs,
      ...(pendingRuns.length > 0 ? { pending: pendingRuns } : {}),
    };
    await writeJsonAtomic(resultsPath, results);
    await opts.onUpdate?.(results);
    return results;
  }

  await Deno.mkdir(runsDir, { recursive: true });
  // --fresh retrains what was written before it began; a run file written since by a concurrent --fresh sweep on
  // this host (its marker names its start) is already fresh, so two such sweeps share the work.
  const freshSince = opts.fresh ? await freshMarker(runsDir) : null;
  // Pending runs, in order; for --fresh, the modification time of the file being replaced, so a file another
  // sweep writes meanwhile can be told from the old one.
  const pending: number[] = [];
  const replacing = new Map<number, number | null>();
  for (let i = 0; i < jobs.length; i++) {
    let state = await readRunFile(runFile(i), keys[i]);
    if (state.kind === "damaged") {
      const aside = await moveAside(runFile(i));
      // results.json may still hold the run intact: then the run is restored from it, not retrained.
      const kept = priorState.kind === "present" ? priorState.results.runs.find((r) => r.key === keys[i]) : undefined;
      if (kept !== undefined) {
        await writeJsonAtomic(runFile(i), kept);
        board.log(`${tag(i)}: ${runFile(i)} ${state.reason}; moved aside to ${aside}; restored from ${resultsPath}`);
        state = { kind: "finished", run: kept };
      } else board.log(`${tag(i)}: ${runFile(i)} ${state.reason}; moved aside to ${aside}; retraining it`);
    }
    if (state.kind === "finished" && !opts.fresh) {
      finished[i] = state.run;
      board.log(`${tag(i)}: finished run found (${keys[i]}), skipped; --fresh retrains`);
      continue;
    }
    if (state.kind === "missing" && !opts.fresh) {
      const reused = await reuse(i);
      if (reused) {
        finished[i] = reused;
        continue;
      }
    }
    if (opts.select && !opts.select(jobs[i], keys[i])) continue; // not selected: neither trained nor waited for
    const written = state.kind === "finished" ? await mtime(runFile(i)) : null;
    if (freshSince !== null && state.kind === "finished" && written !== null && written >= freshSince.since) {
      finished[i] = state.run;
      board.log(`${tag(i)}: retrained by a concurrent --fresh sweep (${keys[i]}), skipped`);
      continue;
    }
    if (opts.fresh) {
      replacing.set(i, await mtime(runFile(i)));
      await removeSnapshot(snapshotPath(runFile(i))); // --fresh: no resuming either
    }
    pending.push(i);
    own.add(i);
  }

  /**
   * A finished run of the same key in another problem's folder, copied here under this sweep's variant, with the
   * files beside it (its checkpoint, its probe) so this problem's probes and reports find them too. The run file
   * is written last, as a worker does: a run file here always has its checkpoint beside it when the source had one.
   */
  async function reuse(i: number): Promise<RunResult | null> {
    for (const dir of opts.reuseFrom ?? []) {
      const state = await readRunFile(join(dir, `${keys[i]}.json`), keys[i]);
      if (state.kind !== "finished") continue;
      const copied = await copyCompanions(dir, runsDir, keys[i]);
      const run = { ...state.run, variant: jobs[i].variant };
      await writeJsonAtomic(runFile(i), run);
      const also = copied.length > 0 ? ` with its ${copied.join(" and ")}` : "";
      board.log(`${tag(i)}: finished run found in ${dir} (${keys[i]}), reused${also}`);
      return run;
    }
    return null;
  }

  /** A run that another sweep finished since we looked (for --fresh: a file newer than the one we replace). */
  async function finishedElsewhere(i: number): Promise<RunResult | null> {
    const state = await readRunFile(runFile(i), keys[i]);
    if (state.kind !== "finished") return null;
    if (replacing.has(i) && (await mtime(runFile(i))) === replacing.get(i)) return null;
    return state.run;
  }

  const children = new Set<Deno.ChildProcess>();
  let interrupted: string | null = null;
  let wake: (() => void) | null = null;
  const onSignal = (signal: Deno.Signal) => () => {
    if (interrupted) return;
    interrupted = signal;
    board.log(`${signal}: stopping ${children.size} running job(s); finished runs are kept`);
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    wake?.();
  };
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  // The README's launcher (npx -> sh -> deno task -> this process) does not pass signals on: when the npx above
  // this sweep ends (killed with SIGTERM), stop as on a signal instead of training on, detached. Only an npm or npx
  // process is watched: a shell that started the sweep in the background may end without meaning "stop".
  const launchers = launcherPids();
  const watch = setInterval(() => {
    const gone = launchers.find((pid) => !pidAlive(pid));
    if (gone !== undefined) onSignal(`the end of its launcher (npx, pid ${gone})` as Deno.Signal)();
  }, 1000);

  let failures = 0;
  async function runOne(i: number): Promise<void> {
    const file = runFile(i);
    board.log(`${tag(i)}: training (key ${keys[i]})`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", WORKER],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    children.add(child);
    const writer = child.stdin.getWriter();
    await writer.write(
      new TextEncoder().encode(
        JSON.stringify({
          config: jobs[i].config,
          variant: jobs[i].variant,
          file,
          snapshotSeconds: opts.snapshotSeconds,
        }),
      ),
    );
    await writer.close();
    let failure: WorkerMessage | null = null;
    await readLines(child.stdout, (line) => {
      let msg: WorkerMessage;
      try {
        msg = JSON.parse(line);
      } catch {
        return board.log(line);
      }
      if (msg.type === "note") return board.log(`${tag(i)}: ${msg.text}`);
      if (msg.type === "failed") {
        failure = msg;
        return;
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
    const state = status.success || interrupted ? await readRunFile(file, keys[i]) : null;
    const run = state?.kind === "finished" && (!replacing.has(i) || (await mtime(file)) !== replacing.get(i))
      ? state.run
      : null;
    await releaseClaim(claimFile(i));
    if (!run && interrupted) return;
    if (!run) {
      failures++;
      const why = failure as WorkerMessage | null;
      board.log(
        `${tag(i)}: FAILED: ${why?.text ?? `worker exit code ${status.code}`}` +
          (why?.trace ? ` (trace in ${why.trace})` : ""),
      );
      if (why?.write === true) cannotWrite ??= why.text ?? "a write failed";
      return;
    }
    finished[i] = run;
    trainedHere = true;
    board.log(`${tag(i)}: ${outcomeText(run)} (${run.timing.trainSeconds.toFixed(0)} s)`);
    if (open.length > 0) board.log(timeLeftText());
    await publish();
  }

  // Runs not yet finished nor started here; a lane takes the first it can claim, and when every remaining run is
  // held by another sweep, waits and looks again (they may finish, or their holder may die).
  const open = [...pending];
  /** The whole sweep's time left: the cost table's estimate of the runs not started, over the lanes. */
  const timeLeftText = (): string => {
    const left = open.reduce((sum, i) => sum + estimatedSeconds(jobs[i].config), 0) / Math.max(1, opts.jobs);
    const done = finished.filter((r) => r !== null).length;
    return `${done}/${jobs.length} runs finished; about ${hoursText(left)} of training left for the ${open.length} ` +
      `not started (cost table estimate at --jobs ${opts.jobs}, besides the runs in progress)`;
  };
  if (open.length > 0) board.log(timeLeftText());
  const held = new Map<number, Claim | null>();
  let lastWaitLog = -Infinity;
  async function nextRun(): Promise<number | null> {
    for (let k = 0; k < open.length; k++) {
      const i = open[k];
      const done = await finishedElsewhere(i);
      if (done) {
        open.splice(k--, 1);
        held.delete(i);
        finished[i] = done;
        board.log(`${tag(i)}: finished by another sweep (${keys[i]})`);
        await publish();
        continue;
      }
      const attempt = await tryClaim(claimFile(i), keys[i]);
      if (attempt.ok) {
        open.splice(k, 1);
        held.delete(i);
        if (attempt.tookOver) {
          board.log(`${tag(i)}: taking over the claim of ${holderText(attempt.tookOver)}, which is no longer running`);
        }
        return i;
      }
      held.set(i, attempt.holder);
    }
    return null;
  }
  // Lanes look for their next run one at a time, so `open` is never edited by two of them at once.
  let turn: Promise<unknown> = Promise.resolve();
  function nextRunInTurn(): Promise<number | null> {
    const mine = turn.then(nextRun);
    turn = mine.catch(() => {});
    return mine;
  }
  async function lane(): Promise<void> {
    while (!interrupted && cannotWrite === null && open.length > 0) {
      const i = await nextRunInTurn();
      if (i !== null) {
        await runOne(i);
        continue;
      }
      if (open.length === 0) break;
      if (performance.now() - lastWaitLog > 60_000) {
        lastWaitLog = performance.now();
        const who = [...new Set([...held.values()].map(holderText))];
        board.log(`waiting for ${open.length} run(s) claimed by ${who.join("; ")}`);
      }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, pollMs);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
    }
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, open.length)) }, lane));
  } finally {
    for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    clearInterval(watch);
    if (freshSince !== null) await Deno.remove(freshSince.marker).catch(() => {});
    board.close();
  }
  const results = cannotWrite === null ? await publish() : null;
  if (cannotWrite !== null || results === null) {
    // The run files written before stay; results.json may be out of date until the same command runs again.
    throw new SweepCannotWrite(cannotWrite ?? "results.json could not be written", open.length);
  }
  if (interrupted) throw new SweepInterrupted(interrupted);
  if (failures > 0) throw new SweepFailures(failures);
  return results;
}

/**
 * Mark this --fresh sweep in `runsDir` (`.fresh-<host>-<pid>`, its start time) and return the earliest start of the
 * --fresh sweeps alive on this host (its own included): run files written since then are already fresh.
 */
async function freshMarker(runsDir: string): Promise<{ since: number; marker: string }> {
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

/** The npm / npx processes above this one (Linux /proc; none elsewhere), nearest first. */
export function launcherPids(): number[] {
  const out: number[] = [];
  let pid = Deno.pid;
  for (let hops = 0; hops < 16; hops++) {
    let ppid: number, cmd: string;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      cmd = Deno.readTextFileSync(`/proc/${ppid}/cmdline`).replaceAll("\0", " ");
    } catch {
      break;
    }
    if (!Number.isInteger(ppid) || ppid <= 1) break;
    if (/\bnpm exec\b|\bnpx\b|npm-cli\.js|npx-cli\.js/.test(cmd)) out.push(ppid);
    pid = ppid;
  }
  return out;
}

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
    : `not learned within ${run.stepsRun} steps, plateaued`;
  const a = accuracyAt(run, run.config.L);
  return `${where}; accuracy at L ${a === null ? "—" : `${(100 * a).toFixed(1)}%`}`;
}
