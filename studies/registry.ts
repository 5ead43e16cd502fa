/**
 * The registry of studies (the assignment's problems and the studies beyond them): every folder of studies/ whose
 * study.ts exports `study` (a StudyDefinition), in index order. Adding one is adding such a folder (plus its deno.json
 * task); nothing else lists them.
 */
import { basename, dirname } from "node:path";
import type { StudyDefinition } from "./definition.ts";

/** Where the studies live: one folder each, `studies/<id>/study.ts` exporting its definition. */
export const STUDIES_DIR = new URL("./", import.meta.url);

function checkDefinition(value: unknown, file: string): StudyDefinition {
  const p = value as Partial<StudyDefinition> | undefined;
  const id = basename(dirname(file));
  if (typeof p !== "object" || p === null) throw new Error(`${file}: exports no \`study\` definition`);
  if (p.id !== id) throw new Error(`${file}: study id ${JSON.stringify(p.id)} must equal its folder's name "${id}"`);
  for (const f of ["title", "summary"] as const) {
    if (typeof p[f] !== "string" || p[f]!.length === 0) throw new Error(`${file}: study ${f} missing`);
  }
  if (typeof p.order !== "number") throw new Error(`${file}: study order missing`);
  if (p.homework !== undefined && !(Number.isInteger(p.homework) && p.homework > 0)) {
    throw new Error(`${file}: study homework must be a positive integer, got ${JSON.stringify(p.homework)}`);
  }
  if (typeof p.jobs !== "function") throw new Error(`${file}: study needs jobs()`);
  return p as StudyDefinition;
}

/** Every study in `dir` (each folder's study.ts), sorted by `order` then id. */
export async function loadStudies(dir: URL = STUDIES_DIR): Promise<readonly StudyDefinition[]> {
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isDirectory) continue;
    const file = `${e.name}/study.ts`;
    if (await Deno.stat(new URL(file, dir)).then((i) => i.isFile, () => false)) files.push(file);
  }
  const studies: StudyDefinition[] = [];
  for (const name of files.sort()) {
    const module = await import(new URL(name, dir).href);
    if (!("study" in module)) continue; // a helper module, not a study
    studies.push(checkDefinition(module.study, name));
  }
  return studies.sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
}
