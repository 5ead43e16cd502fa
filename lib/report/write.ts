/**
 * Writing the reports: read `<dir>/p1|p2|p3/results.json` (those that exist), write each problem's
 * `<dir>/pN/index.html` and the overview `<dir>/index.html`, every file atomically (temporary file in the same
 * folder, then rename), so a browser or a concurrent sweep never sees half a page.
 */
import { join } from "node:path";
import { writeTextAtomic } from "../atomic_write.ts";
import { checkProblemResults, type ProblemResults } from "../results.ts";
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

/** Rebuild every report under `dir` from the results files present there. */
export async function writeReports(dir: string): Promise<void> {
  const all: Partial<Record<(typeof PROBLEMS)[number], ProblemResults>> = {};
  for (const p of PROBLEMS) {
    const results = await readResults(join(dir, p, "results.json"));
    if (results === null) continue;
    all[p] = results;
    await writeTextAtomic(join(dir, p, "index.html"), renderProblemPage(results));
  }
  await writeTextAtomic(join(dir, "index.html"), renderIndexPage(all));
}
