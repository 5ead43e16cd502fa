/**
 * AR sequences for probes with the first query placed where the probe wants it (and optionally the query
 * token fixed), drawn by the same rule as lib/task/ar_data.ts otherwise: v uniform over all K tokens, the
 * value at i + tau, the final query at l-1, every other position uniform over the K-1 tokens other than q.
 * Probes bucket results by distance, query or position; placing i directly gives every bucket the same
 * number of sequences instead of what a uniform draw happens to leave there.
 *
 * Draw order per row: q = int(M) (unless fixed), v = int(K), then one int(K - 1) per filler position from left
 * to right. Shape letters: b batch, l length.
 */
import type { RandomStream } from "../task/random.ts";
import type { ArBatch, ArSpec } from "../task/ar_data.ts";

/** Where a probe batch puts its queries: the first query's position i for each row, and optionally q itself. */
export interface Placement {
  /** [b] position i of the first query per row, each in 0..l-2-tau. */
  readonly firstQuery: Int32Array;
  /** [b] the query token per row (each < M), or undefined to draw it uniformly. */
  readonly query?: Int32Array;
}

/** One row per entry of `place.firstQuery`, of `length` tokens each. */
export function placedBatch(rng: RandomStream, spec: ArSpec, length: number, place: Placement): ArBatch {
  const b = place.firstQuery.length;
  if (place.query !== undefined && place.query.length !== b) {
    throw new Error(`placedBatch: ${place.query.length} queries for ${b} rows`);
  }
  const tokens = new Int32Array(b * length); // [b, l]
  const labels = new Int32Array(b); // [b]
  for (let r = 0; r < b; r++) {
    const i = place.firstQuery[r];
    if (!Number.isInteger(i) || i < 0 || i > length - 2 - spec.tau) {
      throw new Error(`placedBatch: first query at ${i} does not fit length ${length} with tau=${spec.tau}`);
    }
    const q = place.query === undefined ? rng.int(spec.M) : place.query[r];
    if (!Number.isInteger(q) || q < 0 || q >= spec.M) throw new Error(`placedBatch: query ${q} is not in 0..M-1`);
    const v = rng.int(spec.K);
    const row = tokens.subarray(r * length, (r + 1) * length);
    for (let p = 0; p < length; p++) {
      if (p === i || p === length - 1) row[p] = q;
      else if (p === i + spec.tau) row[p] = v;
      else {
        const draw = rng.int(spec.K - 1);
        row[p] = draw >= q ? draw + 1 : draw;
      }
    }
    labels[r] = v;
  }
  return { tokens, labels, queryIndex: place.firstQuery.slice(), batch: b, length };
}

/**
 * The same rows as `batch` (query, value, their positions, labels) with every filler replaced by a token from
 * outside the query set (M..K-1, drawn from `rng`, one int(K - M) per filler from left to right): no other
 * candidate query appears. M = K leaves no such token: an error.
 */
export function fillersOutsideQueries(rng: RandomStream, spec: ArSpec, batch: ArBatch): ArBatch {
  if (spec.M >= spec.K) throw new Error(`fillersOutsideQueries: no token is outside the query set when M = K`);
  const l = batch.length;
  const tokens = batch.tokens.slice(); // [b, l]
  for (let r = 0; r < batch.batch; r++) {
    const i = batch.queryIndex[r];
    for (let p = 0; p < l; p++) {
      if (p !== i && p !== i + spec.tau && p !== l - 1) tokens[r * l + p] = spec.M + rng.int(spec.K - spec.M);
    }
  }
  return { ...batch, tokens };
}

/**
 * `count` distances (final query position minus first query position) spread evenly over every legal one at
 * this length, tau+1 .. l-1, ascending and distinct (all of them when there are fewer than `count`).
 */
export function distanceGrid(length: number, tau: number, count: number): number[] {
  const lo = tau + 1, hi = length - 1;
  if (hi - lo + 1 <= count) return Array.from({ length: hi - lo + 1 }, (_, k) => lo + k);
  const out = new Set<number>();
  for (let k = 0; k < count; k++) out.add(Math.round(lo + (hi - lo) * k / (count - 1)));
  return [...out].sort((a, b) => a - b);
}
