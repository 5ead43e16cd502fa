/**
 * Shards: a deterministic partition of a sweep's planned runs into N parts balanced by expected cost
 * (lib/store/run_cost.ts), so N machines (a Slurm job array, a Kubernetes Indexed Job) can each train one part
 * into a shared folder. Greedy longest-first: runs by cost, largest first (ties by run key), each onto the
 * shard with the least cost so far (ties: the lowest index). The partition depends only on the planned runs'
 * keys and settings, never on what is on disk, so every shard computes the same one wherever and whenever it
 * starts. Runs with the same key (the same run planned twice) land in the same shard.
 */
import type { SweepJob } from "./job.ts";
import { estimatedSeconds } from "./run_cost.ts";

/** Shard `index` of `count` (0 <= index < count), written `index/count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The largest shard count accepted. */
export const MAX_SHARDS = 10_000;

/** `i/N` as a shard, or null when the text is not two integers with 0 <= i < N <= MAX_SHARDS. */
export function parseShard(text: string): Shard | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return null;
  const index = Number(m[1]), count = Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count)) return null;
  if (count < 1 || count > MAX_SHARDS || index >= count) return null;
  return { index, count };
}

/** "2/3". */
export function shardText(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** One planned run as the partition sees it. */
export interface ShardItem {
  readonly key: string;
  /** Expected cost (any unit, the same for every item). */
  readonly cost: number;
}

/** The shard (0..count-1) of every item, in the items' order. */
export function assignShards(items: readonly ShardItem[], count: number): number[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`shard count must be a positive integer, got ${count}`);
  const costOf = new Map<string, number>();
  for (const it of items) costOf.set(it.key, Math.max(costOf.get(it.key) ?? 0, it.cost));
  const keys = [...costOf.keys()].sort((a, b) => costOf.get(b)! - costOf.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  const shardOf = new Map<string, number>();
  for (const key of keys) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    shardOf.set(key, best);
    load[best] += costOf.get(key)!;
  }
  return items.map((it) => shardOf.get(it.key)!);
}

/** Total cost per shard for an assignment. */
export function shardLoads(items: readonly ShardItem[], shards: readonly number[], count: number): number[] {
  const load = new Array<number>(count).fill(0);
  const seen = new Set<string>();
  items.forEach((it, i) => {
    if (seen.has(it.key)) return;
    seen.add(it.key);
    load[shards[i]] += it.cost;
  });
  return load;
}

/**
 * The shard of every job of a plan among `count` shards, or null for a job not `eligible` (say outside
 * --only; default: every job), which no shard trains. The eligible jobs are partitioned by estimated seconds.
 */
export function shardsOfPlan(
  jobs: readonly SweepJob[],
  keys: readonly string[],
  count: number,
  eligible?: readonly boolean[],
): (number | null)[] {
  const chosen = jobs.flatMap((_, i) => eligible === undefined || eligible[i] ? [i] : []);
  const shards = assignShards(chosen.map((i) => ({ key: keys[i], cost: estimatedSeconds(jobs[i].config) })), count);
  const out: (number | null)[] = jobs.map(() => null);
  chosen.forEach((i, k) => out[i] = shards[k]);
  return out;
}
