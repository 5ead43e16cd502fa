/**
 * Writing the reports: read `<dir>/p1|p2|p3/results.json` (those that exist), write each problem's
 * `<dir>/pN/index.html` and the overview `<dir>/index.html`, every file atomically (temporary file in the same
 * folder, then rename), so a browser or a concurrent sweep never sees half a page.
 */
import { join } from "node:path";
import { writeTextAtomic } from "../runs/atomic_write.ts";
import { checkProblemResults, checkRunResult, type ProblemResults, type RunResult } from "../runs/results.ts";
import { renderIndexPage, renderProblemPage } from "./page.ts";

const PROBLEMS = ["p1", "p2", "p3"] as const;

async function readResults(path: string): Promise<ProblemResults | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    checkProblemResults(parsed);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return parsed;
}

/** Recipe-sweep runs in `<dir>/recipes/*.json` (from `deno task recipes`), sorted by file name. */
export async function readRecipeRuns(dir: string): Promise<RunResult[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, "recipes"))) {
      if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const runs: RunResult[] = [];
  for (const name of names.sort()) {
    const path = join(dir, "recipes", name);
    const parsed: unknown = JSON.parse(await Deno.readTextFile(path));
    try {
      checkRunResult(parsed, path);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
    runs.push(parsed);
  }
  return runs;
}

/** Rebuild every report under `dir` from the results files present there. */
export async function writeReports(dir: string): Promise<void> {
  const all: Partial<Record<(typeof PROBLEMS)[number], ProblemResults>> = {};
  for (const p of PROBLEMS) {
    const results = await readResults(join(dir, p, "results.json"));
    if (results === null) continue;
    all[p] = results;
    const recipes = p === "p1" ? await readRecipeRuns(dir) : [];
    await writeTextAtomic(join(dir, p, "index.html"), renderProblemPage(results, recipes));
  }
  await writeTextAtomic(join(dir, "index.html"), renderIndexPage(all));
}
