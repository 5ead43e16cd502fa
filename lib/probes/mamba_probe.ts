/**
 * Mamba probe statistics from each layer's step sizes delta [b, l, e] (probe_forward.ts):
 * - delta aligned on the first query i: mean delta[i+c, channel] for c in -W..W: where the block opens its
 *   state (large delta: write the current token, forget the past) and closes it (small delta: hold);
 * - retention: what is left at the final query of the value's write (position i+tau) in each channel's slowest
 *   state (`retention`), averaged per distance between the queries: the best channel (max) and the typical one
 *   (median over channels);
 * - the mean delta over all positions and channels.
 *
 * Glossary: b batch, l length, e inner dim, n state dim, c offset or channel (said where used), s state index,
 * W window.
 */
import { median as medianOf } from "../stats/median.ts";

/**
 * What is left at position `to` of a write made at position `from` into the slowest state of each channel (the s
 * with the smallest |A[c, s]|, A = -exp(aLog)): every later step t multiplies state (c, s) by exp(delta[t, c]
 * A[c, s]) (the reference's `MambaCache.aBar`), so what is left is exp(A_slow[c] sum_{t=from+1..to} delta[t, c]),
 * in [0, 1]: 1 with delta = 0 (the state is held exactly), near 0 after a large delta (forgotten in one step).
 * Computed from delta in float64: the trace keeps delta only (aBar is n times larger), and float64 keeps a small
 * retention from underflowing to 0.
 * `delta` is one sequence's [l, e] row-major; `aLog` is [e, n]. Returns [e].
 */
export function retention(
  delta: Float32Array,
  l: number,
  aLog: Float32Array,
  e: number,
  n: number,
  from: number,
  to: number,
): Float64Array {
  if (delta.length !== l * e || aLog.length !== e * n) throw new Error("retention: delta must be [l, e], aLog [e, n]");
  if (!(0 <= from && from <= to && to < l)) throw new Error(`retention: need 0 <= from <= to < l, got ${from}, ${to}`);
  const out = new Float64Array(e);
  for (let c = 0; c < e; c++) {
    let minLog = Infinity;
    for (let s = 0; s < n; s++) minLog = Math.min(minLog, aLog[c * n + s]);
    let sum = 0;
    for (let t = from + 1; t <= to; t++) sum += delta[t * e + c];
    out[c] = Math.exp(-Math.exp(minLog) * sum);
  }
  return out;
}

export interface MambaStats {
  readonly length: number;
  readonly sequences: number;
  readonly meanDelta: number;
  /** [e] rows of 2W+1: mean delta of channel ch at offset c from the first query (null: no sequence has it). */
  readonly alignedDelta: (number | null)[][];
  /** Distances between the queries, ascending, and per distance the retention of the best and median channel. */
  readonly distances: number[];
  readonly retentionMax: number[];
  readonly retentionMedian: number[];
}

function median(xs: Float64Array): number {
  return medianOf(Array.from(xs));
}

export class MambaAccumulator {
  readonly #l: number;
  readonly #e: number;
  readonly #n: number;
  readonly #tau: number;
  readonly #w: number;
  readonly #aLog: Float32Array;
  #sequences = 0;
  #deltaSum = 0;
  readonly #aligned: Float64Array;
  readonly #alignedCount: Float64Array;
  readonly #byDistance = new Map<number, { max: number; median: number; count: number }>();

  /** `aLog` [e, n] of the layer. */
  constructor(length: number, e: number, aLog: Float32Array, tau: number, window: number) {
    this.#l = length;
    this.#e = e;
    this.#n = aLog.length / e;
    this.#tau = tau;
    this.#w = window;
    this.#aLog = aLog;
    this.#aligned = new Float64Array(e * (2 * window + 1));
    this.#alignedCount = new Float64Array(2 * window + 1);
  }

  /** Add b sequences: `delta` [b, l, e], `firstQuery` [b]. */
  add(delta: Float32Array, firstQuery: Int32Array): void {
    const l = this.#l, e = this.#e, W = this.#w, side = 2 * W + 1;
    const b = firstQuery.length;
    if (delta.length !== b * l * e) throw new Error(`mamba probe: delta must be [${b}, ${l}, ${e}]`);
    for (let r = 0; r < b; r++) {
      const row = delta.subarray(r * l * e, (r + 1) * l * e);
      const i = firstQuery[r];
      for (let k = 0; k < row.length; k++) this.#deltaSum += row[k];
      for (let c = -W; c <= W; c++) {
        const t = i + c;
        if (t < 0 || t >= l) continue;
        this.#alignedCount[c + W]++;
        for (let ch = 0; ch < e; ch++) this.#aligned[ch * side + c + W] += row[t * e + ch];
      }
      const kept = retention(row, l, this.#aLog, e, this.#n, i + this.#tau, l - 1);
      const distance = l - 1 - i;
      const acc = this.#byDistance.get(distance) ?? { max: 0, median: 0, count: 0 };
      acc.max += Math.max(...kept);
      acc.median += median(kept);
      acc.count++;
      this.#byDistance.set(distance, acc);
      this.#sequences++;
    }
  }

  finish(): MambaStats {
    const l = this.#l, e = this.#e, W = this.#w, side = 2 * W + 1;
    const distances = [...this.#byDistance.keys()].sort((a, b) => a - b);
    const by = distances.map((dist) => this.#byDistance.get(dist)!);
    return {
      length: l,
      sequences: this.#sequences,
      meanDelta: this.#deltaSum / (this.#sequences * l * e),
      alignedDelta: Array.from(
        { length: e },
        (_, ch) =>
          Array.from(
            { length: side },
            (_, j) => this.#alignedCount[j] > 0 ? this.#aligned[ch * side + j] / this.#alignedCount[j] : null,
          ),
      ),
      distances,
      retentionMax: by.map((a) => a.max / a.count),
      retentionMedian: by.map((a) => a.median / a.count),
    };
  }
}
