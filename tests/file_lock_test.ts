import assert from "node:assert/strict";
import { join } from "node:path";
import { withFileLock } from "../lib/runs/file_lock.ts";
import type { Claim } from "../lib/runs/claims.ts";

Deno.test("the results lock lets one section in at a time, within a process too, and is gone afterwards", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock_" });
  try {
    const path = join(dir, "results.json.lock");
    let inside = 0, most = 0;
    const section = async () => {
      inside++;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 20));
      inside--;
    };
    await Promise.all(Array.from({ length: 5 }, () => withFileLock(path, section, { pollMs: 5 })));
    assert.equal(most, 1);
    assert.equal(await Deno.stat(path).then(() => true, () => false), false);
    await assert.rejects(withFileLock(path, () => Promise.reject(new Error("boom"))), /boom/);
    assert.equal(await Deno.stat(path).then(() => true, () => false), false, "released after an error");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock held past the timeout by a process on another machine is broken, with one line saying so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock_" });
  try {
    const path = join(dir, "results.json.lock");
    const holder: Claim = { key: "lock", host: "node-gone", pid: 7, startedAt: "2026-12-02T10:00:00.000Z" };
    await Deno.writeTextFile(path, JSON.stringify(holder));
    const lines: string[] = [];
    const t0 = performance.now();
    const value = await withFileLock(path, () => Promise.resolve(42), {
      timeoutMs: 100,
      pollMs: 10,
      log: (l) => lines.push(l),
    });
    assert.equal(value, 42);
    assert.ok(performance.now() - t0 >= 100, "it waited the timeout first");
    assert.deepEqual(lines, [
      `${path}: held by pid 7 on node-gone since 2026-12-02T10:00:00.000Z for over 0.1 s; breaking it`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
