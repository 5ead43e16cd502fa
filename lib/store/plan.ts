/**
 * A sweep's plan against what is on disk, read only: for every planned run its key, shard, estimated cost and
 * status (finished; finished in another problem's folder, so a sweep copies it; claimed, and by whom; a stale
 * claim, which the next sweep on that host takes over; pending; for a run not finished, the step its snapshot
 * would resume at), and the counts per shard. What
 * `deno task plan` prints; nothing here writes.
 */
import { join } from "node:path";
import { type Claim, isStale, readClaim } from "./claims.ts";
import { readRunFile } from "./run_file.ts";
import { estimatedSeconds } from "./run_cost.ts";
import { readSnapshot, snapshotPath } from "../training/train_snapshot.ts";
import type { SweepJob } from "./job.ts";

export type PlanStatus = "finished" | "reusable" | "claimed" | "stale" | "pending";

/** Statuses that count as done (a reusable run is copied, not trained). */
export const DONE_STATUSES: readonly PlanStatus[] = ["finished", "reusable"];

export interface PlanRow {
  /** Position in the plan (0-based, as results.json's `pending` numbers it). */
  readonly index: number;
  readonly key: string;
  readonly model: string;
  readonly variant: string;
  readonly seed: number;
  /** The shard that trains it, or null when the plan is not sharded. */
  readonly shard: number | null;
  readonly estSeconds: number;
  readonly status: PlanStatus;
  /** Who holds it (claimed or stale), when the claim file could be read. */
  readonly holder: Claim | null;
  /** The problem folder a reusable run is copied from. */
  readonly from: string | null;
  /** Why a run file that is there does not count (it is moved aside and retrained), else null. */
  readonly damaged: string | null;
  /** The step of the usable snapshot of a run not finished (lib/training/train_snapshot.ts), else null. */
  readonly snapshotStep: number | null;
}

/** Counts for one shard (or the whole plan). */
export interface PlanCounts {
  readonly runs: number;
  readonly finished: number;
  readonly claimed: number;
  readonly pending: number;
  readonly estSeconds: number;
  /** Estimated seconds of the runs not done yet. */
  readonly estSecondsLeft: number;
}

/** Where a run finished by another problem may be: its id and runs folder. */
export interface ReuseSource {
  readonly id: string;
  readonly runsDir: string;
}

/** The status of planned runs `indices` of `jobs` in `<dir>/runs`. */
export async function planRows(
  jobs: readonly SweepJob[],
  keys: readonly string[],
  indices: readonly number[],
  shards: readonly (number | null)[] | null,
  dir: string,
  reuseFrom: readonly ReuseSource[] = [],
): Promise<PlanRow[]> {
  const rows: PlanRow[] = [];
  for (const i of indices) {
    const key = keys[i];
    const state = await readRunFile(join(dir, "runs", `${key}.json`), key);
    let status: PlanStatus = "pending";
    let holder: Claim | null = null;
    let from: string | null = null;
    if (state.kind === "finished") status = "finished";
    else {
      if (state.kind === "missing") {
        for (const src of reuseFrom) {
          if ((await readRunFile(join(src.runsDir, `${key}.json`), key)).kind === "finished") {
            status = "reusable";
            from = src.id;
            break;
          }
        }
      }
      if (status === "pending") {
        const claimPath = join(dir, "runs", `${key}.claim`);
        const exists = await Deno.stat(claimPath).then(() => true, () => false);
        if (exists) {
          holder = await readClaim(claimPath);
          status = holder !== null && isStale(holder, claimPath) ? "stale" : "claimed";
        }
      }
    }
    let snapshotStep: number | null = null;
    if (!DONE_STATUSES.includes(status)) {
      const snap = await readSnapshot(snapshotPath(join(dir, "runs", `${key}.json`)), key);
      if (snap !== null && !("unusable" in snap)) snapshotStep = snap.step;
    }
    rows.push({
      index: i,
      key,
      model: jobs[i].config.model,
      variant: jobs[i].variant,
      seed: jobs[i].config.seed,
      shard: shards === null ? null : shards[i],
      estSeconds: estimatedSeconds(jobs[i].config),
      status,
      holder,
      from,
      damaged: state.kind === "damaged" ? state.reason : null,
      snapshotStep,
    });
  }
  return rows;
}

/** Counts over `rows`: done (finished or reusable), claimed (live), pending (no claim, or a stale one). */
export function planCounts(rows: readonly PlanRow[]): PlanCounts {
  const done = rows.filter((r) => DONE_STATUSES.includes(r.status));
  const sum = (rs: readonly PlanRow[]) => rs.reduce((s, r) => s + r.estSeconds, 0);
  return {
    runs: rows.length,
    finished: done.length,
    claimed: rows.filter((r) => r.status === "claimed").length,
    pending: rows.filter((r) => r.status === "pending" || r.status === "stale").length,
    estSeconds: sum(rows),
    estSecondsLeft: sum(rows.filter((r) => !DONE_STATUSES.includes(r.status))),
  };
}

/** "claimed by pid 12 on node-a since 2026-12-01T10:00:00.000Z", "pending; resumes at step 4200" and the like. */
export function statusText(row: PlanRow): string {
  const base = baseStatusText(row);
  return row.snapshotStep === null ? base : `${base}; resumes at step ${row.snapshotStep}`;
}

function baseStatusText(row: PlanRow): string {
  const who = (c: Claim | null) => c === null ? "a process (claim being written)" : `pid ${c.pid} on ${c.host}`;
  switch (row.status) {
    case "finished":
      return "finished";
    case "reusable":
      return `finished in ${row.from} (copied, not trained)`;
    case "claimed":
      return `claimed by ${who(row.holder)}${row.holder === null ? "" : ` since ${row.holder.startedAt}`}`;
    case "stale":
      return `stale claim: ${who(row.holder)} has exited (the next sweep here takes it over)`;
    case "pending":
      return row.damaged === null ? "pending" : `pending (run file ${row.damaged}: retrained)`;
  }
}
