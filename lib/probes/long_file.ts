/**
 * Accuracy beyond the lengths a run evaluates in its own process, from its checkpoints: `<key>.long.json` (the final
 * weights) and `<key>.converged.long.json` (the weights at the moment the run first held 99%), beside the run files.
 * Each file grows one length at a time and is rewritten atomically after each, so an interrupted evaluation resumes
 * at the first length missing; a length already there is never evaluated again. The streaming evaluator
 * (lib/training/evaluate_long.ts) keeps memory flat at any length; the sequences are those evaluate.ts would draw.
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../platform/atomic_write.ts";
import type { RunResult } from "../store/results.ts";
import type { LengthAccuracy } from "../training/record.ts";
import { CheckpointError, loadCheckpoint } from "../training/checkpoint.ts";
import { evaluateLong, weightsOfCheckpoint } from "../training/evaluate_long.ts";
import { exists } from "../store/run_file.ts";
import { checkpointPath } from "./probe_file.ts";

/** Which weights of a run: its final checkpoint, or the one kept when it first held 99%. */
export type WhichWeights = "final" | "converged";

/** What a long-evaluation file holds. */
export interface LongEval {
  readonly key: string;
  readonly weights: WhichWeights;
  /** Evaluated lengths, ascending, each with its accuracy and sample count. */
  readonly lengths: LengthAccuracy[];
  /** Seconds of evaluation so far (all processes). */
  readonly seconds: number;
}

/** The file of run `key`'s long evaluation. */
export function longPath(problemDir: string, key: string, weights: WhichWeights): string {
  return join(problemDir, "runs", `${key}${weights === "final" ? "" : ".converged"}.long.json`);
}

function weightsPath(problemDir: string, key: string, weights: WhichWeights): string {
  const ckpt = checkpointPath(problemDir, key);
  return weights === "final" ? ckpt : ckpt.replace(/\.safetensors$/, ".converged.safetensors");
}

/** The long evaluation of `key` found on disk, or null (missing or not this run's). */
export async function readLong(problemDir: string, key: string, weights: WhichWeights): Promise<LongEval | null> {
  try {
    const v = JSON.parse(await Deno.readTextFile(longPath(problemDir, key, weights))) as LongEval;
    return v.key === key && v.weights === weights && Array.isArray(v.lengths) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Evaluate every run of `runs` that has the checkpoint at `lengths` with `samples` sequences each, resuming files
 * part-way done. Runs without the checkpoint are counted and skipped; a damaged one is named by `log` and skipped.
 */
export async function evaluateLongDir(
  problemDir: string,
  runs: readonly RunResult[],
  opts: {
    readonly lengths: readonly number[];
    readonly samples: number;
    readonly weights: readonly WhichWeights[];
    readonly log?: (line: string) => void;
  },
): Promise<{ evaluated: number; complete: number; noCheckpoint: number; damaged: number }> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const counts = { evaluated: 0, complete: 0, noCheckpoint: 0, damaged: 0 };
  for (const r of runs) {
    for (const which of opts.weights) {
      const path = weightsPath(problemDir, r.key, which);
      if (!(await exists(path))) {
        counts.noCheckpoint++;
        continue;
      }
      const found = await readLong(problemDir, r.key, which);
      const done = new Set(found?.lengths.map((p) => p.length) ?? []);
      const todo = opts.lengths.filter((n) => !done.has(n));
      if (todo.length === 0) {
        counts.complete++;
        continue;
      }
      let weights;
      try {
        weights = weightsOfCheckpoint(await loadCheckpoint(path, r.key));
      } catch (e) {
        if (!(e instanceof CheckpointError)) throw e;
        counts.damaged++;
        log(`skipped: ${e.message}`);
        continue;
      }
      let state: LongEval = found ?? { key: r.key, weights: which, lengths: [], seconds: 0 };
      for (const length of todo) {
        const t0 = performance.now();
        const [point] = evaluateLong(weights, [length], opts.samples);
        state = {
          ...state,
          lengths: [...state.lengths, point].sort((a, b) => a.length - b.length),
          seconds: state.seconds + (performance.now() - t0) / 1000,
        };
        await writeJsonAtomic(longPath(problemDir, r.key, which), state);
        const c = r.config;
        log(
          `${c.model} d=${c.d} L=${c.L} seed=${c.seed} (${which}) at ${length}: ${
            (100 * point.accuracy).toFixed(1)
          }% ` +
            `(${((performance.now() - t0) / 1000).toFixed(1)} s)`,
        );
      }
      counts.evaluated++;
    }
  }
  return counts;
}

/** The long evaluations on disk for these runs, by run key (final and converged weights, where present). */
export async function readLongs(
  problemDir: string,
  runs: readonly RunResult[],
): Promise<Map<string, Partial<Record<WhichWeights, LongEval>>>> {
  const out = new Map<string, Partial<Record<WhichWeights, LongEval>>>();
  for (const r of runs) {
    const entry: Partial<Record<WhichWeights, LongEval>> = {};
    for (const which of ["final", "converged"] as const) {
      const found = await readLong(problemDir, r.key, which);
      if (found !== null) entry[which] = found;
    }
    if (Object.keys(entry).length > 0) out.set(r.key, entry);
  }
  return out;
}
