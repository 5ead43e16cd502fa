/**
 * A problem's `results.json`: reading it with a verdict (present, missing, damaged and why), and rebuilding
 * it from the run files when it is damaged, so a bad write never costs a finished run.
 */
import { join } from "node:path";
import { checkProblemResults, type ProblemResults, type RunResult, SCHEMA_VERSION } from "./results.ts";
import { readCheckedJson, readRunsDir } from "./run_file.ts";
import { versions } from "../platform/version.ts";
import { migrateRun } from "./migrate.ts";

/** What is on disk for a problem's results. */
export type ResultsFileState =
  | { readonly kind: "present"; readonly results: ProblemResults }
  | { readonly kind: "missing" }
  | { readonly kind: "damaged"; readonly reason: string };

/** Any parsed JSON passes (the schema check follows the in-memory migration). */
const anyJson: (v: unknown) => asserts v is unknown = () => {};

/** A results.json of an older schema (1 or 2) brought to the current one in memory; anything else unchanged. */
async function inMemoryMigration(parsed: unknown): Promise<unknown> {
  const o = parsed as Record<string, unknown>;
  if (typeof o !== "object" || o === null || !(o.schema === 1 || o.schema === 2) || !Array.isArray(o.runs)) {
    return parsed;
  }
  const runs = [];
  for (const [i, r] of o.runs.entries()) runs.push(await migrateRun(r, `runs[${i}]`));
  return { ...o, schema: SCHEMA_VERSION, runs };
}

/** Read `<dir>/results.json` (an older schema is migrated in memory, lib/runs/migrate.ts; the file is untouched). */
export async function readResultsFile(dir: string): Promise<ResultsFileState> {
  const state = await readCheckedJson(join(dir, "results.json"), anyJson);
  if (state.kind !== "ok") return state;
  try {
    const migrated = await inMemoryMigration(state.value);
    checkProblemResults(migrated);
    return { kind: "present", results: migrated };
  } catch (e) {
    return { kind: "damaged", reason: `fails the schema (${(e as Error).message})` };
  }
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
