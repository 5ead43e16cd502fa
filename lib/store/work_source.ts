/**
 * Where a sweep's lanes take their runs from. The sweep's loop asks `next()` for work, trains the run it gets and
 * hands it back with `release()`, and writes results.json inside `exclusive()`. How the runs are shared with other
 * processes and machines lives behind this interface:
 *
 * - `aloneSource`: one process alone on its folder; the pending runs in plan order, no claims, no lock.
 * - `claimedSource` (the default): a run is claimed before it is trained (`<runs>/<key>.claim`,
 *   lib/store/claims.ts), so two sweeps on one folder (or shards of one sweep on machines sharing it,
 *   lib/store/shard.ts) never train the same run; runs others hold are waited for and taken when they finish or
 *   their holder dies; results.json is written under `<dir>/results.json.lock` (lib/store/file_lock.ts).
 */
import { dirname, join } from "node:path";
import { type Claim, releaseClaim, tryClaim } from "./claims.ts";
import { withFileLock } from "./file_lock.ts";
import type { RunResult } from "./results.ts";
import type { PlannedRun } from "./sweep_plan.ts";

/** What a lane gets when it asks for work. */
export type Work =
  /** Train the run at this plan position (this process now holds it). */
  | { readonly kind: "run"; readonly index: number }
  /** Another sweep finished this run meanwhile: take it into the results, do not train it. */
  | { readonly kind: "found"; readonly index: number; readonly run: RunResult }
  /** Every run left is held by another sweep: look again later (`note`: a line to show, now and then). */
  | { readonly kind: "wait"; readonly note: string | null }
  /** Nothing is left for this sweep. */
  | { readonly kind: "none" };

/** A sweep's supply of runs (see the module comment). */
export interface WorkSource {
  /** The next piece of work; lanes may ask at once. */
  next(): Promise<Work>;
  /** This process no longer holds the run `next()` gave it (its file is written, or it failed or was stopped). */
  release(index: number): Promise<void>;
  /** Plan positions not yet given out: the runs not started here (the time-left line, the count a stop names). */
  left(): readonly number[];
  /** Run `write` (results.json) while no other sharer of the folder writes it. */
  exclusive<T>(write: () => Promise<T>): Promise<T>;
}

/** What a work source is built from. */
export interface WorkSetup {
  readonly plan: readonly PlannedRun[];
  /** The plan positions this sweep trains, in order. */
  readonly pending: readonly number[];
  /** The finished run in a run's file, or null (for --fresh, only a file newer than the one it replaces). */
  readonly finishedOnDisk: (index: number) => Promise<RunResult | null>;
  /** The lock file to hold while writing results.json. */
  readonly lockPath: string;
  readonly log: (line: string) => void;
}

/** How a sweep shares its runs: a work source for its setup. */
export type Sharing = (setup: WorkSetup) => WorkSource;

/** One process alone on its folder: every pending run in plan order, nothing claimed, locked or waited for. */
export const aloneSource: Sharing = (setup) => {
  const open = [...setup.pending];
  return {
    next: () => Promise.resolve(open.length > 0 ? { kind: "run", index: open.shift()! } : { kind: "none" }),
    release: () => Promise.resolve(),
    left: () => open,
    exclusive: (write) => write(),
  };
};

/** How often a waiting sweep says which runs it waits for, and whose claims they are (ms). */
const WAIT_NOTE_MS = 60_000;

/** What a claimed source keeps between calls. */
interface ClaimState {
  /** Runs not yet finished nor started here, in plan order. */
  readonly open: number[];
  /** Who holds the open runs that another sweep claimed (null: a claim file not readable yet). */
  readonly held: Map<number, Claim | null>;
  /** When the last waiting line was given (performance.now()). */
  lastNote: number;
  /** The end of the queue of `next()` calls: lanes look one at a time, so `open` is never edited by two at once. */
  turn: Promise<unknown>;
}

/** Runs shared through claim files and the results lock (see the module comment). */
export const claimedSource: Sharing = (setup) => {
  const state: ClaimState = { open: [...setup.pending], held: new Map(), lastNote: -Infinity, turn: Promise.resolve() };
  return {
    next: () => {
      const mine = state.turn.then(() => nextClaimed(setup, state));
      state.turn = mine.catch(() => {});
      return mine;
    },
    release: (index) => releaseClaim(claimPath(setup.plan[index])),
    left: () => state.open,
    exclusive: (write) => withFileLock(setup.lockPath, write, { log: setup.log }),
  };
};

/** `<runs>/<key>.claim`. */
export function claimPath(run: PlannedRun): string {
  return join(dirname(run.file), `${run.key}.claim`);
}

/**
 * The first open run that another sweep finished meanwhile (found) or that this one can claim (a claim left by a
 * holder that is gone is taken over, with one line saying so); else wait while others hold the rest.
 */
async function nextClaimed(setup: WorkSetup, state: ClaimState): Promise<Work> {
  for (let k = 0; k < state.open.length; k++) {
    const index = state.open[k];
    const run = setup.plan[index];
    const done = await setup.finishedOnDisk(index);
    if (done) {
      state.open.splice(k, 1);
      state.held.delete(index);
      return { kind: "found", index, run: done };
    }
    const attempt = await tryClaim(claimPath(run), run.key);
    if (!attempt.ok) {
      state.held.set(index, attempt.holder);
      continue;
    }
    state.open.splice(k, 1);
    state.held.delete(index);
    // Another sweep may have written the run and released its claim between the look above and this claim: look
    // again now that the claim is ours (two --fresh sweeps under load once trained a run twice through this gap).
    const meanwhile = await setup.finishedOnDisk(index);
    if (meanwhile) {
      await releaseClaim(claimPath(run));
      return { kind: "found", index, run: meanwhile };
    }
    if (attempt.tookOver) {
      setup.log(`${run.tag}: taking over the claim of ${holderText(attempt.tookOver)}, which is no longer running`);
    }
    return { kind: "run", index };
  }
  return state.open.length === 0 ? { kind: "none" } : { kind: "wait", note: waitNote(state) };
}

/** "waiting for 3 run(s) claimed by pid ... on ... since ...", at most once a minute; else null. */
function waitNote(state: ClaimState): string | null {
  if (performance.now() - state.lastNote <= WAIT_NOTE_MS) return null;
  state.lastNote = performance.now();
  const who = [...new Set([...state.held.values()].map(holderText))];
  return `waiting for ${state.open.length} run(s) claimed by ${who.join("; ")}`;
}

function holderText(c: Claim | null): string {
  return c === null ? "another sweep" : `pid ${c.pid} on ${c.host} since ${c.startedAt}`;
}
