/**
 * A problem's `results.json`: reading it with a verdict (present, missing, damaged and why), and rebuilding
 * it from the run files when it is damaged, so a bad write never costs a finished run.
 */
import { join } from "node:path";
import {
  checkProblemResults,
  type PendingRun,
  type ProblemResults,
  type RunResult,
  SCHEMA_VERSION,
} from "./results.ts";
import { readCheckedJson, readFinishedRun, readRunsDir } from "./run_file.ts";
import { versions } from "../platform/version.ts";

/** What is on disk for a problem's results. */
export type ResultsFileState =
  | { readonly kind: "present"; readonly results: ProblemResults }
  | { readonly kind: "missing" }
  | { readonly kind: "damaged"; readonly reason: string };

/** Any parsed JSON passes (the schema check follows). */
const anyJson: (v: unknown) => asserts v is unknown = () => {};

/** Read `<dir>/results.json`, checked against the schema. */
export async function readResultsFile(dir: string): Promise<ResultsFileState> {
  const state = await readCheckedJson(join(dir, "results.json"), anyJson);
  if (state.kind !== "ok") return state;
  try {
    const value = state.value;
    checkProblemResults(value);
    return { kind: "present", results: value };
  } catch (e) {
    return { kind: "damaged", reason: `fails the schema (${(e as Error).message})` };
  }
}

/** Results with the runs of `finished` (plan positions) filled in among `runs`, and `pending` what is left. */
export function withFinished(results: ProblemResults, finished: ReadonlyMap<number, RunResult>): ProblemResults {
  const pending = results.pending ?? [];
  if (finished.size === 0) return results;
  const at = new Map<number, RunResult>(finished);
  const open = new Set(pending.map((p) => p.index));
  let next = 0;
  for (let i = 0; i < results.planned; i++) if (!open.has(i)) at.set(i, results.runs[next++]);
  const runs = [...at.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
  const left: PendingRun[] = pending.filter((p) => !finished.has(p.index));
  const { pending: _, ...rest } = results;
  return left.length === 0 ? { ...rest, runs } : { ...rest, runs, pending: left };
}

/**
 * `results` with every pending run whose run file has appeared in `<dir>/runs` since (another shard or sweep
 * finished it) merged in at its place in the plan; `merged` counts them. Nothing is written.
 */
export async function mergePending(
  dir: string,
  results: ProblemResults,
): Promise<{ readonly results: ProblemResults; readonly merged: number }> {
  const found = new Map<number, RunResult>();
  for (const p of results.pending ?? []) {
    const run = await readFinishedRun(join(dir, "runs", `${p.key}.json`), p.key);
    if (run !== null) found.set(p.index, run);
  }
  return { results: withFinished(results, found), merged: found.size };
}

/**
 * Results rebuilt from the valid run files in `<dir>/runs`: runs in `order` (keys, e.g. the problem's default
 * plan) first, the rest by key. Dates come from the runs; wall time is unknown (0).
 */
export async function rebuildResults(
  problem: string,
  dir: string,
  order: readonly string[] = [],
): Promise<ProblemResults> {
  const all = await readRunsDir(join(dir, "runs"));
  const rank = (r: RunResult) => {
    const i = order.indexOf(r.key);
    return i < 0 ? order.length : i;
  };
  const runs = [...all].sort((a, b) => rank(a) - rank(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const dates = runs.map((r) => r.startedAt).sort();
  const now = new Date().toISOString();
  return {
    schema: SCHEMA_VERSION,
    problem,
    command: `(rebuilt from the run files in ${join(dir, "runs")})`,
    startedAt: dates[0] ?? now,
    finishedAt: now,
    wallSeconds: 0,
    cores: navigator.hardwareConcurrency,
    versions: versions(),
    planned: Math.max(runs.length, order.length),
    runs,
  };
}
