import assert from "node:assert/strict";
import { substream } from "../lib/task/random.ts";
import { distanceGrid, fillersOutsideQueries, placedBatch } from "../lib/probes/probe_data.ts";

Deno.test("placed probe sequences put the first query, the value and the final query where asked", () => {
  const spec = { K: 16, M: 4, tau: 3 };
  const l = 20;
  const firstQuery = Int32Array.of(0, 5, 15, 15);
  const query = Int32Array.of(3, 0, 1, 2);
  const b = placedBatch(substream(0, "probe:test:data"), spec, l, { firstQuery, query });
  for (let r = 0; r < 4; r++) {
    const row = Array.from(b.tokens.subarray(r * l, (r + 1) * l));
    const i = firstQuery[r], q = query[r];
    assert.equal(row[i], q);
    assert.equal(row[l - 1], q);
    assert.equal(row[i + spec.tau], b.labels[r]);
    row.forEach((tok, p) => {
      if (p !== i && p !== l - 1 && p !== i + spec.tau) assert.notEqual(tok, q);
    });
  }
  assert.throws(() => placedBatch(substream(0, "x"), spec, l, { firstQuery: Int32Array.of(16) }), /does not fit/);
});

Deno.test("the distance grid spans tau+1 .. l-1 evenly, or every distance when there are few", () => {
  assert.deepEqual(distanceGrid(8, 1, 24), [2, 3, 4, 5, 6, 7]);
  const g = distanceGrid(192, 5, 24);
  assert.equal(g.length, 24);
  assert.equal(g[0], 6);
  assert.equal(g[23], 191);
  assert.ok(g.every((v, k) => k === 0 || v > g[k - 1]));
});

Deno.test("fillers from outside the query set change only the fillers: same query, value and positions per row", () => {
  const spec = { K: 16, M: 4, tau: 2 };
  const firstQuery = Int32Array.from({ length: 64 }, (_, r) => r % 20);
  const usual = placedBatch(substream(3, "x"), spec, 32, { firstQuery });
  const outside = fillersOutsideQueries(substream(3, "y"), spec, usual);
  assert.deepEqual(outside.labels, usual.labels);
  assert.deepEqual(outside.queryIndex, usual.queryIndex);
  let candidates = 0;
  for (let r = 0; r < 64; r++) {
    const i = firstQuery[r], row = (b: typeof usual) => b.tokens.subarray(r * 32, (r + 1) * 32);
    for (const p of [i, i + 2, 31]) assert.equal(row(outside)[p], row(usual)[p], `row ${r} position ${p}`);
    for (let p = 0; p < 32; p++) {
      if (p === i || p === i + 2 || p === 31) continue;
      assert.ok(row(outside)[p] >= 4, `row ${r}: filler ${row(outside)[p]} is a candidate query`);
      if (row(usual)[p] < 4) candidates++;
    }
  }
  assert.ok(candidates > 64 * 29 * 0.15, `training's fillers include the other candidates (${candidates})`);
  assert.throws(() => fillersOutsideQueries(substream(3, "y"), { K: 16, M: 16, tau: 2 }, usual), /M = K/);
});
