import assert from "node:assert/strict";
import { substream } from "../lib/task/random.ts";
import { distanceGrid, placedBatch } from "../lib/probes/probe_data.ts";

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
