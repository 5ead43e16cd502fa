/**
 * The fixed token embedding of the assignment: V = numpy `seed(0); randn(K, d)`, each row divided by its L2
 * norm. Computed in float64 exactly as numpy does (same draws, same summation order for the norm), then
 * rounded once to float32.
 *
 * Shape letters: K vocabulary size, d embedding dimension.
 */

import { mt19937 } from "./random.ts";

/** Below this many terms numpy's pairwise sum is a plain left-to-right loop. */
const UNROLL = 8;
/** Up to this many terms numpy sums with 8 interleaved accumulators; above it, it splits in halves. */
const BLOCK = 128;

/**
 * Sum of `values[start, start + count)` in the order numpy's `add.reduce` uses on a contiguous float64 row
 * (pairwise summation), so the result is bit-identical to `np.sum` / `np.linalg.norm` on the same data.
 */
function numpySum(values: Float64Array, start: number, count: number): number {
  if (count < UNROLL) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += values[start + i];
    return sum;
  }
  if (count <= BLOCK) {
    const r = values.slice(start, start + UNROLL);
    const unrolledEnd = count - (count % UNROLL);
    let i = UNROLL;
    for (; i < unrolledEnd; i += UNROLL) {
      for (let j = 0; j < UNROLL; j++) r[j] += values[start + i + j];
    }
    let sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < count; i++) sum += values[start + i];
    return sum;
  }
  const half = Math.floor(count / 2) - (Math.floor(count / 2) % UNROLL);
  return numpySum(values, start, half) + numpySum(values, start + half, count - half);
}

function checkDimension(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`embedding: ${name} must be a positive integer, got ${value}`);
  }
}

/**
 * The K x d embedding matrix V as a row-major Float32Array (row t is the unit-length embedding of token t):
 * numpy `np.random.seed(0); V = np.random.randn(K, d); V /= np.linalg.norm(V, axis=1, keepdims=True)`,
 * then `V.astype(np.float32)`.
 */
export function embedding(K: number, d: number): Float32Array {
  checkDimension("K", K);
  checkDimension("d", d);
  const rng = mt19937(0);
  const out = new Float32Array(K * d); // [K, d]
  const row = new Float64Array(d);
  const squares = new Float64Array(d);
  for (let t = 0; t < K; t++) {
    for (let j = 0; j < d; j++) {
      row[j] = rng.gaussian();
      squares[j] = row[j] * row[j];
    }
    const norm = Math.sqrt(numpySum(squares, 0, d));
    for (let j = 0; j < d; j++) out[t * d + j] = row[j] / norm;
  }
  return out;
}
