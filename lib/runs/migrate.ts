/**
 * Migrating run files in place to the current schema and keys, without retraining: each run's new key comes
 * from its stored config (lib/runs/run_key.ts). Schema 1 stored the resolved config (derived values included,
 * `kernels` absent for the fast kernels) and keyed it together with the Recall Lab version; schema 2 stores the
 * settings only and keys them with the training revision. Schema 3 adds the settings `extendUpTo` and
 * `headlineSamples`, the run's `verdict` and `baseSteps`, and each length's `samples`: runs of schemas 1 and 2 ran
 * with no extension (`extendUpTo` 1) and `evalSamples` sequences at every length (so `headlineSamples` =
 * `evalSamples`), and their verdict follows from their status and history by the plateau rule
 * (lib/training/plateau.ts).
 */
import { join } from "node:path";
import { type ExperimentConfig, resolve, type ResolvedConfig, settingsOf } from "../training/config.ts";
import { runKey, stableJson } from "./run_key.ts";
import { checkProblemResults, checkRunResult, type RunResult, SCHEMA_VERSION } from "./results.ts";
import { writeJsonAtomic } from "./atomic_write.ts";
import { stillImproving } from "../training/plateau.ts";

/** The training revision of every schema-1 run (lib/training/revision.ts: revision 1). */
const SCHEMA_1_REVISION = 1;

/** Derived values a schema-1 file stored; re-deriving them from the settings must give the same values. */
const DERIVED_FIELDS = ["mixers", "pe", "maxLen", "mambaInner", "mambaState", "dtRank", "convWidth"] as const;

/** A run object at the current schema, with the key its settings give; throws when it cannot be migrated. */
export async function migrateRun(value: unknown, where: string): Promise<RunResult> {
  const o = value as Record<string, unknown>;
  if (typeof o !== "object" || o === null) throw new Error(`${where}: not a run object`);
  if (o.schema !== 1 && o.schema !== 2 && o.schema !== SCHEMA_VERSION) {
    throw new Error(`${where}: unknown schema ${String(o.schema)}`);
  }
  const old = o.schema === 1 || o.schema === 2;
  // Every run trained before `init` existed started from the "scaled-normal" weights.
  const beforeInit = { init: "scaled-normal", ...(o.config as object) };
  const stored: Record<string, unknown> = old
    ? { extendUpTo: 1, headlineSamples: (o.config as Record<string, unknown>).evalSamples, ...beforeInit }
    : beforeInit;
  const resolved = resolve(stored as unknown as ExperimentConfig);
  if (o.schema === 1) {
    for (const f of DERIVED_FIELDS) {
      if (stableJson(stored[f]) !== stableJson(resolved[f as keyof ResolvedConfig])) {
        throw new Error(
          `${where}: stored ${f} ${stableJson(stored[f])} differs from today's ${stableJson(resolved[f])}`,
        );
      }
    }
  }
  const revision = o.schema === 1 ? SCHEMA_1_REVISION : o.revision as number;
  const config = settingsOf(resolved);
  const key = await runKey(config, revision);
  const { schema: _s, key: _k, revision: _r, variant, config: _c, ...rest } = o;
  const upgraded = old ? { ...rest, ...threeFieldsOf(o, config.steps, config.evalSamples) } : rest;
  const run = { schema: SCHEMA_VERSION, key, revision, variant, config, ...upgraded };
  checkRunResult(run, where);
  return run;
}

/** The run fields schema 3 added, for a schema-1 or -2 run: its verdict, base cap and per-length sample counts. */
function threeFieldsOf(o: Record<string, unknown>, steps: number, evalSamples: number): Record<string, unknown> {
  const status = o.status as RunResult["status"];
  const history = (Array.isArray(o.history) ? o.history : []) as RunResult["history"];
  const verdict = status === "cap" ? (stillImproving(history) ? "still improving" : "plateaued") : status;
  const accuracyByLength = (Array.isArray(o.accuracyByLength) ? o.accuracyByLength : []).map((a) => ({
    ...(a as object),
    samples: evalSamples,
  }));
  return { status, verdict, baseSteps: steps, accuracyByLength };
}

/** What one migration changed. */
export interface MigrationReport {
  /** Run files rewritten (renamed when their key changed). */
  readonly runFiles: number;
  /** results.json files rewritten. */
  readonly resultsFiles: number;
  /** Loose run files (outside runs/ folders) rewritten in place. */
  readonly looseFiles: number;
  /** Files already current. */
  readonly unchanged: number;
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(path));
}

async function* jsonFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".json")) yield join(dir, e.name);
  }
}

/**
 * Migrate every run under `root`: `<dir>/runs/<key>.json` files (renamed to their new key), every
 * `results.json` (its runs and keys), and loose run files elsewhere (in place). Idempotent.
 */
export async function migrateTree(root: string, log: (line: string) => void = () => {}): Promise<MigrationReport> {
  let runFiles = 0, resultsFiles = 0, looseFiles = 0, unchanged = 0;
  async function visit(dir: string): Promise<void> {
    const subdirs: string[] = [];
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) subdirs.push(e.name);
    for (const name of subdirs.sort()) {
      if (name === "runs") await migrateRunsDir(join(dir, name));
      else await visit(join(dir, name));
    }
    for await (const path of jsonFiles(dir)) {
      const value = await readJson(path) as Record<string, unknown>;
      if (path.endsWith("results.json") && Array.isArray(value.runs)) await migrateResults(path, value);
      else if (value.schema !== undefined && value.config !== undefined && value.history !== undefined) {
        const run = await migrateRun(value, path);
        if (stableJson(run) === stableJson(value)) unchanged++;
        else {
          await writeJsonAtomic(path, run);
          looseFiles++;
        }
      }
    }
  }
  async function migrateRunsDir(dir: string): Promise<void> {
    const paths: string[] = [];
    for await (const path of jsonFiles(dir)) paths.push(path);
    for (const path of paths.sort()) {
      const value = await readJson(path);
      const run = await migrateRun(value, path);
      const target = join(dir, `${run.key}.json`);
      if (target === path && stableJson(run) === stableJson(value)) {
        unchanged++;
        continue;
      }
      await writeJsonAtomic(target, run);
      if (target !== path) {
        await Deno.remove(path);
        log(`${path} -> ${run.key}.json`);
      }
      runFiles++;
    }
  }
  async function migrateResults(path: string, value: Record<string, unknown>): Promise<void> {
    const runs = [];
    for (const [i, r] of (value.runs as unknown[]).entries()) runs.push(await migrateRun(r, `${path}: runs[${i}]`));
    const migrated = { ...value, schema: SCHEMA_VERSION, runs };
    checkProblemResults(migrated);
    if (stableJson(migrated) === stableJson(value)) {
      unchanged++;
      return;
    }
    await writeJsonAtomic(path, migrated);
    resultsFiles++;
  }
  await visit(root);
  return { runFiles, resultsFiles, looseFiles, unchanged };
}
