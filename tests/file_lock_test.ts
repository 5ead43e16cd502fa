import assert from "node:assert/strict";
import { join } from "node:path";
import { withFileLock } from "../lib/store/file_lock.ts";
import { ROOT } from "./fixtures/spawn.ts";
import type { Claim } from "../lib/store/claims.ts";

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

Deno.test("processes sharing a folder hold the results lock one at a time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lock_" });
  try {
    const path = join(dir, "results.json.lock"), log = join(dir, "log");
    const code = `
      import { withFileLock } from "${join(ROOT, "lib", "store", "file_lock.ts")}";
      for (let i = 0; i < 6; i++) {
        await withFileLock(${JSON.stringify(path)}, async () => {
          await Deno.writeTextFile(${JSON.stringify(log)}, "in " + Deno.pid + "\\n", { append: true });
          await new Promise((r) => setTimeout(r, 5));
          await Deno.writeTextFile(${JSON.stringify(log)}, "out " + Deno.pid + "\\n", { append: true });
        }, { pollMs: 2 });
      }`;
    const children = Array.from(
      { length: 3 },
      () => new Deno.Command(Deno.execPath(), { args: ["eval", "--ext=ts", code], stderr: "piped" }).output(),
    );
    for (const r of await Promise.all(children)) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const lines = (await Deno.readTextFile(log)).trim().split("\n");
    assert.equal(lines.length, 3 * 6 * 2);
    for (let i = 0; i < lines.length; i += 2) {
      const [a, b] = [lines[i].split(" "), lines[i + 1].split(" ")];
      assert.deepEqual([a[0], b[0], a[1]], ["in", "out", b[1]], `line ${i}: another process got in`);
    }
    assert.equal(new Set(lines.map((l) => l.split(" ")[1])).size, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
