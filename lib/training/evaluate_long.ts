/**
 * Accuracy at lengths the full forward cannot reach: the streaming forward of lib/models/long_forward.ts over
 * sequences drawn a chunk at a time (lib/task/ar_stream.ts), a few sequences in lockstep.
 *
 * Same sequences as evaluate.ts: length n's sequences are the first ones of `substream(seed, "eval:length=n")`, drawn
 * in arBatch's order, so at a length both evaluators reach they score the same sequences (and, the logits agreeing
 * to float32 rounding, the same accuracy but for a near-tie of two logits).
 *
 * Memory: a Mamba model's working set is one chunk of every sequence in lockstep, whatever the length; attention
 * layers add O(l d) per sequence (long_forward.ts). The number of sequences in lockstep is chosen so that the
 * estimated working set stays within `budgetMb`.
 *
 * Glossary: b sequences in lockstep, c chunk, l length, d model dim.
 */
import { ConfigError, MAX_EVAL_LENGTH, type ResolvedConfig, type RunModel } from "./config.ts";
import { LongForward, type StreamWeights, weightsOfModel } from "../models/long_forward.ts";
import { restoreStream, substream } from "../task/random.ts";
import { ArRowStream, rowStarts } from "../task/ar_stream.ts";
import { accuracyOf } from "./train.ts";
import type { LengthAccuracy } from "./record.ts";
import type { Checkpoint } from "./checkpoint.ts";

export interface LongEvalOptions {
  /** Tokens of each sequence per step of the stream (default DEFAULT_CHUNK). */
  readonly chunk?: number;
  /** Working memory the sequences in lockstep may take, in MB (default DEFAULT_BUDGET_MB). */
  readonly budgetMb?: number;
  /** Seed of the per-length streams (default the config's, as evaluate.ts). */
  readonly seed?: number;
  /** Called after each length (for progress lines). */
  readonly onLength?: (result: LengthAccuracy & { seconds: number; lockstep: number }) => void;
}

/** 4096 tokens per step: the fixed costs of a step (weights into kernel memory, copies) are < 1% of it. */
export const DEFAULT_CHUNK = 4096;
export const MAX_CHUNK = 65536;
/** 512 MB: with the runtime's ~150 MB the process stays under the 1 GB at any length. */
export const DEFAULT_BUDGET_MB = 512;
export const MIN_BUDGET_MB = 16;
export const MAX_BUDGET_MB = 8192;
/** Longest length for a model whose layers are all Mamba (positions stay exact in int32 arithmetic). */
export const MAX_STREAM_LENGTH = 2 ** 30;
/** Longest length for a model with a non-last attention layer: its cost grows as l^2 (the Transformers). */
export const MAX_ATTENTION_LENGTH = MAX_EVAL_LENGTH;
export const MAX_LONG_SAMPLES = 1_000_000;

/** A checkpoint's weights (lib/training/checkpoint.ts `loadCheckpoint`) for `evaluateLong`, without building a model. */
export function weightsOfCheckpoint(ckpt: Checkpoint): StreamWeights<ResolvedConfig> {
  return { config: ckpt.config, arrays: new Map(ckpt.arrays.map((a) => [a.name, a.data])) };
}

/** Bytes of the stream's working set per sequence: one chunk's activations plus attention's O(l d) state. */
export function bytesPerSequence(config: ResolvedConfig, length: number, chunk: number): number {
  const d = config.d, e = config.mambaInner;
  const rows = chunk + config.convWidth - 1;
  let floats = rows * 4 * d; // embedding, residual, norms
  config.mixers.forEach((kind, i) => {
    const last = i === config.mixers.length - 1;
    if (kind === "mamba") floats += rows * (2 * d + 13 * e + 4 * (config.dtRank + 2 * config.mambaState));
    else floats += last ? length * d : 4 * length * d + rows * 6 * d; // keys and values, and their kernel copies
  });
  return 4 * floats;
}

/** The longest length `config`'s model can be evaluated at here (before the memory budget). */
export function maxLongLength(config: ResolvedConfig): number {
  const inner = config.mixers.slice(0, -1);
  let max = inner.includes("attention") ? MAX_ATTENTION_LENGTH : MAX_STREAM_LENGTH;
  if (config.pe === "learned") max = Math.min(max, config.maxLen);
  return max;
}

function requireInt(flag: string, value: unknown, min: number, max: number, why = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(flag, `must be an integer in [${min}, ${max}]${why}, got ${String(value)}`);
  }
  return value;
}

/**
 * Check the evaluation's settings against the model; throws ConfigError naming the flag (--lengths, --samples,
 * --chunk, --budget-mb; --d for a Mamba model whose width the kernels cannot stream). Returns the chunk and budget with defaults filled.
 */
export function checkLongEval(
  config: ResolvedConfig,
  lengths: readonly number[],
  samples: number,
  opts: Pick<LongEvalOptions, "chunk" | "budgetMb"> = {},
): { chunk: number; budgetMb: number } {
  const chunk = requireInt("chunk", opts.chunk ?? DEFAULT_CHUNK, 1, MAX_CHUNK);
  const budgetMb = requireInt("budget-mb", opts.budgetMb ?? DEFAULT_BUDGET_MB, MIN_BUDGET_MB, MAX_BUDGET_MB);
  requireInt("samples", samples, 1, MAX_LONG_SAMPLES);
  if (config.mixers.includes("mamba") && config.d % 4 !== 0) {
    throw new ConfigError("d", `must be a multiple of 4 for the streaming Mamba (its kernels' rows), got ${config.d}`);
  }
  if (config.mixers.includes("mamba") && config.expand !== 2) {
    throw new ConfigError(
      "expand",
      `must be 2 for the streaming Mamba (its kernels fuse e = 2d), got ${config.expand}`,
    );
  }
  if (!Array.isArray(lengths) || lengths.length === 0) {
    throw new ConfigError("lengths", `must list at least one length, got ${JSON.stringify(lengths)}`);
  }
  const max = maxLongLength(config);
  const why = max === config.maxLen && config.pe === "learned"
    ? ` (the learned position table has ${max} rows)`
    : max === MAX_ATTENTION_LENGTH
    ? " (attention's cost grows as length^2)"
    : "";
  for (const length of lengths) {
    requireInt("lengths", length, config.tau + 2, max, why);
    const needMb = Math.ceil(bytesPerSequence(config, length, Math.min(chunk, length)) / 2 ** 20);
    if (needMb > budgetMb) {
      throw new ConfigError(
        "budget-mb",
        `must be at least ${needMb} for one ${config.model} sequence of length ${length} at chunk ${chunk}, got ${budgetMb}`,
      );
    }
  }
  return { chunk, budgetMb };
}

/**
 * Accuracy at each of `lengths` on `samples` sequences each, from the last position's logits of the streaming
 * forward. `source`: a built or trained model, or its weights with its config (e.g. from a checkpoint).
 */
export function evaluateLong(
  source: RunModel | StreamWeights<ResolvedConfig>,
  lengths: readonly number[],
  samples: number,
  opts: LongEvalOptions = {},
): LengthAccuracy[] {
  const weights = "arrays" in source ? source : weightsOfModel(source);
  const config = weights.config;
  const { chunk, budgetMb } = checkLongEval(config, lengths, samples, opts);
  const spec = { K: config.K, M: config.M, tau: config.tau };
  const seed = opts.seed ?? config.seed;
  return lengths.map((length) => {
    const start = performance.now();
    const starts = rowStarts(substream(seed, `eval:length=${length}`), spec, length, samples);
    const c = Math.min(chunk, length);
    const lockstep = Math.max(
      1,
      Math.min(samples, Math.floor(budgetMb * 2 ** 20 / bytesPerSequence(config, length, c))),
    );
    let correct = 0;
    for (let first = 0; first < samples; first += lockstep) {
      const b = Math.min(lockstep, samples - first);
      const rows = starts.slice(first, first + b).map((s) => new ArRowStream(restoreStream(s.state), spec, length));
      const forward = new LongForward(weights, b, length);
      const tokens = new Int32Array(b * c); // [b, c]
      for (let t0 = 0; t0 < length; t0 += c) {
        const n = Math.min(c, length - t0);
        rows.forEach((row, bi) => row.fill(tokens.subarray(bi * n, (bi + 1) * n)));
        forward.push(tokens.subarray(0, b * n), n);
      }
      const labels = Int32Array.from(rows, (row) => row.label);
      correct += Math.round(accuracyOf(forward.logits(), labels, config.K) * b);
    }
    const result = { length, accuracy: correct / samples, samples };
    opts.onLength?.({ ...result, seconds: (performance.now() - start) / 1000, lockstep });
    return result;
  });
}
