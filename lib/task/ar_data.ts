/**
 * Associative-recall (AR) batches as plain typed arrays, following the assignment's "Generating training
 * dataset" recipe (0-indexed here):
 *
 * - q = a query, uniform over the first M tokens; v = a value, uniform over all K tokens, drawn independently
 *   (so v may equal q: such a row holds q three times, and the label is still v);
 * - q at the last position l-1 and at i, uniform over 0 .. l-2-tau (every position that leaves room for the
 *   value tau tokens later, before the final q; so the shortest legal length is tau+2, where i = 0);
 * - v at i + tau; every other position uniform over the K-1 tokens other than q.
 *
 * Draw order, fixed so that batches are reproducible: rows in order; per row q = int(M), v = int(K),
 * i = int(l - tau - 1), then one int(K - 1) per filler position from left to right. (`int(1)` draws nothing,
 * as in numpy.)
 *
 * Shape letters: b batch, l length.
 */

import type { RandomStream } from "./random.ts";

/** The task parameters that shape a sequence: vocabulary K, query-set size M, delay tau. */
export interface ArSpec {
  readonly K: number;
  readonly M: number;
  readonly tau: number;
}

/** A batch of AR sequences with their answers. */
export interface ArBatch {
  /** [b, l] row-major token ids in 0..K-1. */
  readonly tokens: Int32Array;
  /** [b] the value v each sequence must recall. */
  readonly labels: Int32Array;
  /** [b] position i of the first query (the value sits at i + tau, the second query at l-1). */
  readonly queryIndex: Int32Array;
  readonly batch: number;
  readonly length: number;
}

function requireInteger(what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`arBatch: ${what} must be an integer >= ${min}, got ${value}`);
  }
}

function checkArguments(spec: ArSpec, batch: number, length: number): void {
  requireInteger("K", spec.K, 2);
  requireInteger("M", spec.M, 1);
  if (spec.M > spec.K) {
    throw new Error(`arBatch: M (${spec.M}) must not exceed K (${spec.K}): queries are the first M tokens`);
  }
  requireInteger("tau", spec.tau, 1);
  requireInteger("batch", batch, 1);
  if (!Number.isInteger(length) || length < spec.tau + 2) {
    throw new Error(
      `arBatch: length must be an integer >= tau + 2 = ${spec.tau + 2} (query, value tau later, final query), ` +
        `got ${length}`,
    );
  }
}

/** Fills one row ([l] view of the token array) and returns its [q, v, i]. */
function fillRow(rng: RandomStream, spec: ArSpec, row: Int32Array): [number, number, number] {
  const l = row.length;
  const q = rng.int(spec.M);
  const v = rng.int(spec.K);
  const i = rng.int(l - spec.tau - 1);
  const valueAt = i + spec.tau;
  for (let p = 0; p < l; p++) {
    if (p === i || p === l - 1) {
      row[p] = q;
    } else if (p === valueAt) {
      row[p] = v;
    } else {
      const draw = rng.int(spec.K - 1); // one of the K-1 tokens other than q: skip over q
      row[p] = draw >= q ? draw + 1 : draw;
    }
  }
  return [q, v, i];
}

/** `batch` fresh AR sequences of `length` tokens drawn from `rng` (draw order in the file comment). */
export function arBatch(rng: RandomStream, spec: ArSpec, batch: number, length: number): ArBatch {
  checkArguments(spec, batch, length);
  const tokens = new Int32Array(batch * length); // [b, l]
  const labels = new Int32Array(batch); // [b]
  const queryIndex = new Int32Array(batch); // [b]
  for (let r = 0; r < batch; r++) {
    const [, v, i] = fillRow(rng, spec, tokens.subarray(r * length, (r + 1) * length));
    labels[r] = v;
    queryIndex[r] = i;
  }
  return { tokens, labels, queryIndex, batch, length };
}

/** One JSON object per row: `{"tokens":[...],"label":v,"queryIndex":i}`. */
export function toJsonLines(batch: ArBatch): string[] {
  const lines: string[] = [];
  for (let r = 0; r < batch.batch; r++) {
    const tokens = Array.from(batch.tokens.subarray(r * batch.length, (r + 1) * batch.length));
    lines.push(JSON.stringify({ tokens, label: batch.labels[r], queryIndex: batch.queryIndex[r] }));
  }
  return lines;
}
