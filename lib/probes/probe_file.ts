/**
 * Probe files: `<out>/<problem>/runs/<key>.probe.json` beside each run's `<key>.json` and `<key>.safetensors`,
 * written atomically, numbers kept to 5 significant digits (deterministic, and a tenth the size). `probeDir`
 * computes the missing ones from the checkpoints; `readProbes` gives the report the ones present.
 */
import { join } from "node:path";
import { writeTextAtomic } from "../platform/atomic_write.ts";
import type { RunResult } from "../store/results.ts";
import { CheckpointError, loadModel } from "../training/checkpoint.ts";
import { DEFAULT_PROBE_OPTIONS, PROBE_SCHEMA, probeModel, type ProbeOptions, type ProbeResult } from "./probe_run.ts";
import { exists } from "../store/run_file.ts";

/** The probe file of run `key` in a problem folder. */
export function probePath(problemDir: string, key: string): string {
  return join(problemDir, "runs", `${key}.probe.json`);
}

/** The checkpoint of run `key` in a problem folder. */
export function checkpointPath(problemDir: string, key: string): string {
  return join(problemDir, "runs", `${key}.safetensors`);
}

/** The probe result as JSON text, non-integers rounded to 5 significant digits. */
export function probeJson(result: ProbeResult): string {
  return JSON.stringify(
    result,
    (_k, v) => (typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(5)) : v),
  ) + "\n";
}

/** The probe file of `key`, or null when it is missing, unreadable or of another schema or run. */
export async function readProbe(problemDir: string, key: string): Promise<ProbeResult | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(probePath(problemDir, key));
  } catch {
    return null;
  }
  try {
    const p = JSON.parse(text) as ProbeResult;
    return p.schema === PROBE_SCHEMA && p.key === key ? p : null;
  } catch {
    return null;
  }
}

/** The probe files present for these runs, by run key. */
export async function readProbes(problemDir: string, runs: readonly RunResult[]): Promise<Map<string, ProbeResult>> {
  const out = new Map<string, ProbeResult>();
  for (const r of runs) {
    const p = await readProbe(problemDir, r.key);
    if (p !== null) out.set(r.key, p);
  }
  return out;
}

/** The probe files of every study's runs, by study id then run key (answers that cite another study's probes). */
export async function readStudyProbes(
  dir: string,
  results: ReadonlyMap<string, { readonly runs: readonly RunResult[] }>,
): Promise<Map<string, Map<string, ProbeResult>>> {
  const out = new Map<string, Map<string, ProbeResult>>();
  for (const [id, r] of results) out.set(id, await readProbes(join(dir, id), r.runs));
  return out;
}

/** Probe one checkpoint and write its probe file; returns the result. */
export async function probeCheckpoint(
  problemDir: string,
  key: string,
  options: ProbeOptions = DEFAULT_PROBE_OPTIONS,
): Promise<ProbeResult> {
  const model = await loadModel(checkpointPath(problemDir, key), key);
  try {
    const result = probeModel(model, key, options);
    await writeTextAtomic(probePath(problemDir, key), probeJson(result));
    return result;
  } finally {
    model.dispose();
  }
}

/**
 * Probe every run of a problem folder that has a checkpoint and no probe file (all of them with `fresh`);
 * runs without a checkpoint are skipped. Returns how many were probed and skipped.
 */
export async function probeDir(
  problemDir: string,
  runs: readonly RunResult[],
  opts: { fresh?: boolean; options?: ProbeOptions; log?: (line: string) => void } = {},
): Promise<{ probed: number; present: number; noCheckpoint: number; damaged: number }> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const counts = { probed: 0, present: 0, noCheckpoint: 0, damaged: 0 };
  for (const r of runs) {
    if (!(await exists(checkpointPath(problemDir, r.key)))) {
      counts.noCheckpoint++;
      continue;
    }
    if (!opts.fresh && (await readProbe(problemDir, r.key)) !== null) {
      counts.present++;
      continue;
    }
    const started = performance.now();
    try {
      await probeCheckpoint(problemDir, r.key, opts.options);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      counts.damaged++; // named, skipped; the other runs are still probed
      log(`skipped: ${e.message}`);
      continue;
    }
    counts.probed++;
    const c = r.config;
    log(
      `probed ${c.model} d=${c.d} M=${c.M} tau=${c.tau} seed=${c.seed} (${r.key}) in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
  return counts;
}
