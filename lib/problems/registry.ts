/**
 * The registry of studies (the assignment's problems and the studies beyond them): every folder of studies/ whose
 * study.ts exports `problem` (a ProblemDefinition), in index order. Adding one is adding such a folder (plus its
 * deno.json task); nothing else lists them.
 */
import { basename, dirname } from "node:path";
import type { ProblemDefinition } from "./definition.ts";

/** Where the studies live: one folder each, `studies/<id>/study.ts` exporting its definition. */
export const PROBLEMS_DIR = new URL("../../studies/", import.meta.url);

function checkDefinition(value: unknown, file: string): ProblemDefinition {
  const p = value as Partial<ProblemDefinition> | undefined;
  const id = basename(dirname(file));
  if (typeof p !== "object" || p === null) throw new Error(`${file}: exports no \`problem\` definition`);
  if (p.id !== id) throw new Error(`${file}: problem id ${JSON.stringify(p.id)} must equal its folder's name "${id}"`);
  for (const f of ["title", "summary"] as const) {
    if (typeof p[f] !== "string" || p[f]!.length === 0) throw new Error(`${file}: problem ${f} missing`);
  }
  if (typeof p.order !== "number") throw new Error(`${file}: problem order missing`);
  if (p.homework !== undefined && !(Number.isInteger(p.homework) && p.homework > 0)) {
    throw new Error(`${file}: problem homework must be a positive integer, got ${JSON.stringify(p.homework)}`);
  }
  if (typeof p.jobs !== "function" || typeof p.view !== "function") {
    throw new Error(`${file}: problem needs jobs() and view()`);
  }
  return p as ProblemDefinition;
}

/** Every study in `dir` (each folder's study.ts), sorted by `order` then id. */
export async function loadProblems(dir: URL = PROBLEMS_DIR): Promise<readonly ProblemDefinition[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isDirectory) continue;
    const file = `${e.name}/study.ts`;
    if (await Deno.stat(new URL(file, dir)).then((i) => i.isFile, () => false)) files.push(file);
  }
  const problems: ProblemDefinition[] = [];
  for (const name of files.sort()) {
    const module = await import(new URL(name, dir).href);
    if (!("problem" in module)) continue; // a helper module, not a problem
    problems.push(checkDefinition(module.problem, name));
  }
  return problems.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
}

/** The problem with this id, or an error listing the known ids. */
export function findProblem(problems: readonly ProblemDefinition[], id: string): ProblemDefinition {
  const p = problems.find((x) => x.id === id);
  if (!p) throw new Error(`unknown problem "${id}"; known: ${problems.map((x) => x.id).join(", ")}`);
  return p;
}
