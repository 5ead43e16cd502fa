/**
 * Run files on disk (`<dir>/runs/<key>.json`): reading one with a verdict (finished, missing, or damaged and
 * why), moving a damaged one aside, and reading every valid run of a folder.
 */
import { join } from "node:path";
import { checkRunResult, type RunResult } from "./results.ts";
import { writeBytesAtomic } from "../platform/atomic_write.ts";

/** What is on disk for a run. */
export type RunFileState =
  | { readonly kind: "finished"; readonly run: RunResult }
  | { readonly kind: "missing" }
  | { readonly kind: "damaged"; readonly reason: string };

/** A JSON file read and checked: its value, or missing, or damaged and why. */
export type JsonFileState<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "missing" }
  | { readonly kind: "damaged"; readonly reason: string };

/** Read `path` as JSON and `check` it (a function that throws on a bad value). */
export async function readCheckedJson<T>(
  path: string,
  check: (v: unknown) => asserts v is T,
): Promise<JsonFileState<T>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { kind: "missing" };
    return { kind: "damaged", reason: `cannot be read (${(e as Error).message})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { kind: "damaged", reason: `does not parse (${(e as Error).message})` };
  }
  try {
    check(parsed);
  } catch (e) {
    return { kind: "damaged", reason: `fails the schema (${(e as Error).message})` };
  }
  return { kind: "ok", value: parsed };
}

const checkRun: (v: unknown) => asserts v is RunResult = (v) => checkRunResult(v);

/** Read the run file at `path`, which should hold the run `key`. */
export async function readRunFile(path: string, key: string): Promise<RunFileState> {
  const state = await readCheckedJson(path, checkRun);
  if (state.kind !== "ok") return state;
  if (state.value.key !== key) return { kind: "damaged", reason: `holds run ${state.value.key}, not ${key}` };
  return { kind: "finished", run: state.value };
}

/** A finished run file, or null when it is missing or damaged. */
export async function readFinishedRun(path: string, key: string): Promise<RunResult | null> {
  const state = await readRunFile(path, key);
  return state.kind === "finished" ? state.run : null;
}

/** Move a damaged file aside as `<path>.corrupt` (or `.corrupt-2`, ... if taken); returns the new path. */
export async function moveAside(path: string): Promise<string> {
  for (let n = 1;; n++) {
    const target = n === 1 ? `${path}.corrupt` : `${path}.corrupt-${n}`;
    try {
      await Deno.lstat(target);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await Deno.rename(path, target);
      return target;
    }
  }
}

/** Files that live beside a run file and belong to its run: the checkpoint and the probe (`deno task probe`). */
export const RUN_COMPANIONS: readonly { readonly suffix: string; readonly name: string }[] = [
  { suffix: ".safetensors", name: "checkpoint" },
  { suffix: ".converged.safetensors", name: "checkpoint at convergence" },
  { suffix: ".probe.json", name: "probe" },
];

/**
 * Copy the companions of run `key` from `fromDir` to `toDir` (each atomically), skipping those the source lacks
 * and never replacing one already in `toDir`; returns the names of those copied.
 */
export async function copyCompanions(fromDir: string, toDir: string, key: string): Promise<string[]> {
  const copied: string[] = [];
  for (const c of RUN_COMPANIONS) {
    const to = join(toDir, `${key}${c.suffix}`);
    if (await exists(to)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(join(fromDir, `${key}${c.suffix}`));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    await writeBytesAtomic(to, bytes);
    copied.push(c.name);
  }
  return copied;
}

/** Whether anything is at `path` (a missing file is false; any other error is thrown). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Every valid run file in `runsDir` (`*.json`), sorted by key; damaged or foreign files are skipped. */
export async function readRunsDir(runsDir: string): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  let names: string[] = [];
  try {
    for await (const e of Deno.readDir(runsDir)) if (e.isFile && e.name.endsWith(".json")) names.push(e.name);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  names = names.sort();
  for (const name of names) {
    const state = await readRunFile(join(runsDir, name), name.slice(0, -".json".length));
    if (state.kind === "finished") runs.push(state.run);
  }
  return runs;
}
