/**
 * Writing the reports: for every registered problem whose `<dir>/<id>/results.json` exists, write its page
 * `<dir>/<id>/index.html`, then the overview `<dir>/index.html`, every file atomically (temporary file in the
 * same folder, then rename), so a browser or a concurrent sweep never sees half a page. A results.json that
 * does not parse is rebuilt from the problem's run files first, with one line saying so. Runs a results.json
 * lists as pending whose run files have appeared since (other shards finished them) are merged in for the pages
 * (`mergeResultsFiles` also writes them into results.json).
 */
import { join } from "node:path";
import { writeJsonAtomic, writeTextAtomic } from "../platform/atomic_write.ts";
import type { ProblemResults } from "../store/results.ts";
import { mergePending, readResultsFile, rebuildResults } from "../store/results_file.ts";
import { withFileLock } from "../store/file_lock.ts";
import type { ProblemDefinition } from "./pages.ts";
import { loadProblems } from "./pages.ts";
import { renderIndexPage, renderPartsPage, renderProblemPage } from "./page.ts";
import { probeParts } from "./probe_parts.ts";
import { readProbes, readStudyProbes } from "../probes/probe_file.ts";
import { readLongs } from "../probes/long_file.ts";

/** Every problem's results under `dir`, by id (damaged files rebuilt from the run files and rewritten). */
export async function readAllResults(
  dir: string,
  problems: readonly ProblemDefinition[],
  log: (line: string) => void = (line) => console.error(line),
): Promise<Map<string, ProblemResults>> {
  const all = new Map<string, ProblemResults>();
  for (const p of problems) {
    const pdir = join(dir, p.id);
    const state = await readResultsFile(pdir);
    if (state.kind === "missing") {
      // Run files without a results.json (a sweep stopped before writing it, or files copied in): shown, not lost.
      const found = await rebuildResults(p.id, pdir);
      if (found.runs.length === 0) continue;
      log(`${join(pdir, "results.json")} is missing: the report shows the ${found.runs.length} run files found`);
      all.set(p.id, found);
      continue;
    }
    if (state.kind === "present") {
      all.set(p.id, (await mergePending(pdir, state.results)).results);
      continue;
    }
    const rebuilt = await rebuildResults(p.id, pdir);
    await writeJsonAtomic(join(pdir, "results.json"), rebuilt);
    log(`${join(pdir, "results.json")} ${state.reason}: rebuilt from ${rebuilt.runs.length} run files`);
    all.set(p.id, rebuilt);
  }
  return all;
}

/**
 * For every problem under `dir` whose results.json lists pending runs that have finished since (in other shards
 * or sweeps), write them into its results.json (under the lock sweeps use); one line per problem merged.
 */
export async function mergeResultsFiles(
  dir: string,
  problems: readonly ProblemDefinition[],
  log: (line: string) => void = (line) => console.error(line),
): Promise<void> {
  for (const p of problems) {
    const pdir = join(dir, p.id);
    const present = await Deno.stat(join(pdir, "results.json")).then(() => true, () => false);
    if (!present) continue;
    await withFileLock(join(pdir, "results.json.lock"), async () => {
      const state = await readResultsFile(pdir);
      if (state.kind !== "present" || (state.results.pending ?? []).length === 0) return;
      const { results, merged } = await mergePending(pdir, state.results);
      if (merged === 0) return;
      await writeJsonAtomic(join(pdir, "results.json"), results);
      const left = results.pending?.length ?? 0;
      log(
        `${
          join(pdir, "results.json")
        }: merged ${merged} run(s) finished elsewhere; ${results.runs.length}/${results.planned} ` +
          (left === 0 ? "runs, complete" : `runs, ${left} still pending`),
      );
    }, { log });
  }
}

/** Rebuild every report under `dir` from the results files present there. */
export async function writeReports(dir: string, problems?: readonly ProblemDefinition[]): Promise<void> {
  const registry = problems ?? await loadProblems();
  const results = await readAllResults(dir, registry);
  const context = { results, studyProbes: await readStudyProbes(dir, results) };
  for (const p of registry) {
    const r = results.get(p.id);
    if (r === undefined) continue;
    const probes = await readProbes(join(dir, p.id), r.runs); // runs with a <key>.probe.json
    const long = await readLongs(join(dir, p.id), r.runs); // runs with a <key>.long.json
    const parts = probeParts(r, probes);
    const probesPage = parts.length === 0 ? null : "probes.html";
    await writeTextAtomic(
      join(dir, p.id, "index.html"),
      renderProblemPage(p, r, { ...context, probes, long }, [], probesPage),
    );
    if (probesPage !== null) {
      await writeTextAtomic(join(dir, p.id, probesPage), renderPartsPage(p, `${p.title}: probes`, parts));
    }
  }
  await writeTextAtomic(join(dir, "index.html"), renderIndexPage(registry, context));
}
