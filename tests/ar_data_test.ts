import assert from "node:assert/strict";
import { type ArBatch, arBatch, type ArSpec, toJsonLines } from "../lib/task/ar_data.ts";
import { mt19937, substream } from "../lib/task/random.ts";

/** Upper 0.1% point of chi-square with `df` degrees of freedom (Wilson-Hilferty approximation). */
function chiSquareCritical(df: number): number {
  const z = 3.09;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

function chiSquareUniform(counts: number[]): number {
  const total = counts.reduce((acc, c) => acc + c, 0);
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

function assertUniform(counts: number[], what: string): void {
  const statistic = chiSquareUniform(counts);
  const critical = chiSquareCritical(counts.length - 1);
  assert.ok(statistic < critical, `${what}: chi-square ${statistic.toFixed(1)} >= ${critical.toFixed(1)}`);
  // A gross failure (e.g. a category never drawn) must also show up, so the test can fail.
  assert.ok(counts.every((c) => c > 0), `${what}: some category never drawn`);
}

function row(batch: ArBatch, r: number): Int32Array {
  return batch.tokens.subarray(r * batch.length, (r + 1) * batch.length);
}

const SPEC: ArSpec = { K: 16, M: 4, tau: 3 };
const LENGTH = 20;
const ROWS = 4000;
const BIG = arBatch(mt19937(11), SPEC, ROWS, LENGTH);

Deno.test("arBatch() returns [b, l] tokens and [b] labels and query indices", () => {
  assert.equal(BIG.batch, ROWS);
  assert.equal(BIG.length, LENGTH);
  assert.equal(BIG.tokens.length, ROWS * LENGTH);
  assert.equal(BIG.labels.length, ROWS);
  assert.equal(BIG.queryIndex.length, ROWS);
  assert.ok(BIG.tokens.every((t) => t >= 0 && t < SPEC.K));
});

Deno.test("arBatch() ends every row with a query from the first M tokens and repeats it at queryIndex", () => {
  for (let r = 0; r < ROWS; r++) {
    const tokens = row(BIG, r);
    const q = tokens[LENGTH - 1];
    assert.ok(q >= 0 && q < SPEC.M, `row ${r}: q = ${q}`);
    assert.equal(tokens[BIG.queryIndex[r]], q, `row ${r}`);
  }
});

Deno.test("arBatch() places the value tau tokens after the first query and uses it as the label", () => {
  for (let r = 0; r < ROWS; r++) {
    assert.equal(row(BIG, r)[BIG.queryIndex[r] + SPEC.tau], BIG.labels[r], `row ${r}`);
  }
});

Deno.test("arBatch() puts q exactly twice among non-value positions: fillers never equal q", () => {
  for (let r = 0; r < ROWS; r++) {
    const tokens = row(BIG, r);
    const q = tokens[LENGTH - 1];
    const valueAt = BIG.queryIndex[r] + SPEC.tau;
    const positions = [];
    for (let p = 0; p < LENGTH; p++) if (p !== valueAt && tokens[p] === q) positions.push(p);
    assert.deepEqual(positions, [BIG.queryIndex[r], LENGTH - 1], `row ${r}`);
  }
});

Deno.test("arBatch() draws fillers uniformly over the K-1 tokens other than q", () => {
  const counts = new Array(SPEC.K - 1).fill(0);
  for (let r = 0; r < ROWS; r++) {
    const tokens = row(BIG, r);
    const q = tokens[LENGTH - 1];
    const i = BIG.queryIndex[r];
    for (let p = 0; p < LENGTH - 1; p++) {
      if (p === i || p === i + SPEC.tau) continue;
      counts[tokens[p] < q ? tokens[p] : tokens[p] - 1]++; // rank among the tokens != q
    }
  }
  assertUniform(counts, "filler rank");
});

Deno.test("arBatch() draws the first-query position uniformly over 0..l-2-tau", () => {
  const counts = new Array(LENGTH - SPEC.tau - 1).fill(0);
  for (const i of BIG.queryIndex) {
    assert.ok(i >= 0 && i <= LENGTH - 2 - SPEC.tau, `i = ${i}`);
    counts[i]++;
  }
  assertUniform(counts, "first-query position");
});

Deno.test("arBatch() draws the value uniformly over K and the query uniformly over M", () => {
  const values = new Array(SPEC.K).fill(0);
  const queries = new Array(SPEC.M).fill(0);
  for (let r = 0; r < ROWS; r++) {
    values[BIG.labels[r]]++;
    queries[row(BIG, r)[LENGTH - 1]]++;
  }
  assertUniform(values, "value");
  assertUniform(queries, "query");
});

Deno.test("arBatch() lets the value equal the query (drawn independently), giving a third q", () => {
  const spec = { K: 16, M: 16, tau: 1 };
  const batch = arBatch(mt19937(2), spec, 2000, 12);
  let same = 0;
  for (let r = 0; r < batch.batch; r++) {
    const tokens = row(batch, r);
    if (batch.labels[r] !== tokens[11]) continue;
    same++;
    assert.equal(tokens.filter((t) => t === tokens[11]).length, 3, `row ${r}`);
  }
  // Expected 2000 / 16 = 125.
  assert.ok(same > 80 && same < 170, `value == query in ${same} rows`);
});

Deno.test("arBatch() accepts the shortest length tau+2, where the first query is always at 0", () => {
  for (const tau of [1, 5]) {
    const spec = { K: 16, M: 4, tau };
    const batch = arBatch(mt19937(3), spec, 200, tau + 2);
    for (let r = 0; r < batch.batch; r++) {
      const tokens = row(batch, r);
      assert.equal(batch.queryIndex[r], 0);
      assert.equal(tokens[0], tokens[tau + 1]);
      assert.equal(tokens[tau], batch.labels[r]);
    }
  }
});

Deno.test("arBatch() throws a clear error for length tau+1 and other impossible specs", () => {
  const rng = mt19937(0);
  assert.throws(() => arBatch(rng, { K: 16, M: 1, tau: 5 }, 4, 6), /length must be an integer >= tau \+ 2 = 7/);
  assert.throws(() => arBatch(rng, { K: 16, M: 1, tau: 1 }, 4, 2), /length/);
  assert.throws(() => arBatch(rng, { K: 8, M: 9, tau: 1 }, 4, 10), /M \(9\) must not exceed K \(8\)/);
  assert.throws(() => arBatch(rng, { K: 1, M: 1, tau: 1 }, 4, 10), /K must be an integer >= 2/);
  assert.throws(() => arBatch(rng, { K: 16, M: 0, tau: 1 }, 4, 10), /M must be/);
  assert.throws(() => arBatch(rng, { K: 16, M: 4, tau: 0 }, 4, 10), /tau must be/);
  assert.throws(() => arBatch(rng, { K: 16, M: 4, tau: 1 }, 0, 10), /batch must be/);
  assert.throws(() => arBatch(rng, { K: 16, M: 4, tau: 1 }, 4, 10.5), /length/);
});

Deno.test("arBatch() draws per row q, v, i, then fillers left to right", () => {
  const spec = { K: 16, M: 4, tau: 2 };
  const length = 9;
  const batch = arBatch(mt19937(21), spec, 3, length);
  const rng = mt19937(21);
  for (let r = 0; r < 3; r++) {
    const q = rng.int(spec.M);
    const v = rng.int(spec.K);
    const i = rng.int(length - spec.tau - 1);
    const expected: number[] = [];
    for (let p = 0; p < length; p++) {
      if (p === i || p === length - 1) expected.push(q);
      else if (p === i + spec.tau) expected.push(v);
      else {
        const draw = rng.int(spec.K - 1);
        expected.push(draw < q ? draw : draw + 1);
      }
    }
    assert.deepEqual(Array.from(row(batch, r)), expected, `row ${r}`);
    assert.equal(batch.labels[r], v);
    assert.equal(batch.queryIndex[r], i);
  }
});

Deno.test("arBatch() repeats for the same seed and differs for different substream names", () => {
  const spec = { K: 16, M: 8, tau: 1 };
  const a = arBatch(substream(7, "train"), spec, 64, 32);
  const b = arBatch(substream(7, "train"), spec, 64, 32);
  const c = arBatch(substream(7, "test"), spec, 64, 32);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.tokens, c.tokens);
});

Deno.test("toJsonLines() writes one JSON object per row with tokens, label and queryIndex", () => {
  const batch = arBatch(mt19937(5), { K: 16, M: 2, tau: 1 }, 3, 6);
  const lines = toJsonLines(batch);
  assert.equal(lines.length, 3);
  lines.forEach((line, r) => {
    assert.ok(line.startsWith('{"tokens":['), line);
    assert.deepEqual(JSON.parse(line), {
      tokens: Array.from(row(batch, r)),
      label: batch.labels[r],
      queryIndex: batch.queryIndex[r],
    });
  });
});
