import assert from "node:assert/strict";
import { join } from "node:path";
import { problemCommand } from "./fixtures/spawn.ts";
import { type Claim, CLAIM_WRITE_GRACE_SECONDS, hostName, releaseClaim, tryClaim } from "../lib/store/claims.ts";
import { checkProblemResults, type RunResult } from "../lib/store/results.ts";

function problem(id: string, args: string[]): Deno.Command {
  return problemCommand(id, args, "null");
}

/** The pid of a process that has exited (so no live process holds it, barring reuse within the test). */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("a claimed run cannot be claimed again; releasing it frees it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const path = join(dir, "k.claim");
    assert.deepEqual(await tryClaim(path, "k"), { ok: true, tookOver: null });
    const claim: Claim = JSON.parse(await Deno.readTextFile(path));
    assert.equal(claim.host, hostName());
    assert.equal(claim.pid, Deno.pid);
    assert.ok(!Number.isNaN(Date.parse(claim.startedAt)));
    const again = await tryClaim(path, "k");
    assert.equal(again.ok, false, "our own live claim is not taken twice");
    await releaseClaim(path);
    assert.equal((await tryClaim(path, "k")).ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a claim left by a dead process on this host is taken over; a live one elsewhere is not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const stale: Claim = { key: "k", host: hostName(), pid: await deadPid(), startedAt: "2026-01-01T00:00:00.000Z" };
    await Deno.writeTextFile(join(dir, "stale.claim"), JSON.stringify(stale));
    const took = await tryClaim(join(dir, "stale.claim"), "k");
    assert.deepEqual(took, { ok: true, tookOver: stale });
    const other: Claim = { ...stale, host: `${hostName()}-elsewhere` };
    await Deno.writeTextFile(join(dir, "other.claim"), JSON.stringify(other));
    assert.deepEqual(await tryClaim(join(dir, "other.claim"), "k"), { ok: false, holder: other });
    const sleeper = new Deno.Command("sleep", { args: ["30"] }).spawn();
    try {
      const live: Claim = { ...stale, pid: sleeper.pid };
      await Deno.writeTextFile(join(dir, "live.claim"), JSON.stringify(live));
      assert.deepEqual(await tryClaim(join(dir, "live.claim"), "k"), { ok: false, holder: live });
    } finally {
      sleeper.kill();
      await sleeper.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an empty or damaged claim file is waited for while it may be being written, then taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    for (const content of ["", '{"host": "x", "pi']) {
      const path = join(dir, `k${content.length}.claim`);
      await Deno.writeTextFile(path, content);
      assert.deepEqual(await tryClaim(path, "k"), { ok: false, holder: null }, "a fresh one may be mid-write");
      const old = new Date(Date.now() - (CLAIM_WRITE_GRACE_SECONDS + 5) * 1000);
      await Deno.utime(path, old, old);
      assert.deepEqual(await tryClaim(path, "k"), { ok: true, tookOver: null }, `${JSON.stringify(content)}: taken`);
      assert.equal((JSON.parse(await Deno.readTextFile(path)) as Claim).pid, Deno.pid);
      await releaseClaim(path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a claim naming this process that it did not make (a restarted container's pid) is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const path = join(dir, "k.claim");
    const before: Claim = { key: "k", host: hostName(), pid: Deno.pid, startedAt: "2026-01-01T00:00:00.000Z" };
    await Deno.writeTextFile(path, JSON.stringify(before));
    assert.deepEqual(await tryClaim(path, "k"), { ok: true, tookOver: before });
    assert.equal((await tryClaim(path, "k")).ok, false, "the claim it made itself is not taken again");
    await releaseClaim(path);
    assert.equal(await Deno.stat(path).then(() => true, () => false), false, "released");
    // A claim file this process never made is not removed by releasing it.
    await Deno.writeTextFile(path, JSON.stringify({ ...before, host: "elsewhere" }));
    await releaseClaim(path);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).host, "elsewhere");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two sweeps on one folder train 10 runs in total, both exit 0, and results.json holds all 10", async () => {
  const out = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const args = ["--quick", "--steps", "30", "--out", out, "--jobs", "1"];
    const [a, b] = await Promise.all([problem("p1", args).output(), problem("p1", args).output()]);
    const text = [a, b].map((r) => new TextDecoder().decode(r.stderr));
    assert.equal(a.code, 0, text[0]);
    assert.equal(b.code, 0, text[1]);
    const trained = text.map((t) => t.match(/: training \(key/g)?.length ?? 0);
    assert.equal(trained[0] + trained[1], 10, `trained ${trained.join(" + ")}\n${text.join("\n---\n")}`);
    const results = JSON.parse(await Deno.readTextFile(join(out, "p1", "results.json")));
    checkProblemResults(results);
    assert.equal(results.runs.length, 10);
    const left = [...Deno.readDirSync(join(out, "p1", "runs"))].filter((e) => e.name.endsWith(".claim"));
    assert.deepEqual(left, [], "no claim is left behind");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("two concurrent --fresh sweeps retrain every run once between them, not twice", async () => {
  const out = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const args = ["--quick", "--steps", "30", "--out", out, "--jobs", "1"];
    assert.equal((await problem("p1", args).output()).code, 0);
    const fresh = [...args, "--fresh"];
    const a = problem("p1", fresh).output();
    await new Promise((r) => setTimeout(r, 1500)); // the second starts after the first has retrained a run or two
    const b = problem("p1", fresh).output();
    const text = (await Promise.all([a, b])).map((r) => new TextDecoder().decode(r.stderr));
    const trained = text.map((t) => t.match(/: training \(key/g)?.length ?? 0);
    assert.equal(trained[0] + trained[1], 10, `trained ${trained.join(" + ")}\n${text.join("\n---\n")}`);
    const left = [...Deno.readDirSync(join(out, "p1", "runs"))].filter((e) => e.name.startsWith(".fresh-"));
    assert.deepEqual(left, [], "no marker is left behind");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a damaged run file is named in one line, moved aside, and restored from results.json, else retrained", async () => {
  const out = await Deno.makeTempDir({ prefix: "claims_" });
  try {
    const first = await problem("p2", ["--quick", "--steps", "30", "--out", out]).output();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    const runs = join(out, "p2", "runs");
    const [victim, lost] = [...Deno.readDirSync(runs)].map((e) => e.name).filter((n) => n.endsWith(".json")).sort();
    const intact = await Deno.readTextFile(join(runs, victim));
    await Deno.writeTextFile(join(runs, victim), '{"schema": 2, "key": "trunc');
    // A run results.json no longer holds either: its damaged file costs the run.
    const resultsPath = join(out, "p2", "results.json");
    const held = JSON.parse(await Deno.readTextFile(resultsPath));
    const lostKey = lost.replace(".json", "");
    await Deno.writeTextFile(
      resultsPath,
      JSON.stringify({
        ...held,
        planned: held.planned - 1,
        runs: held.runs.filter((r: RunResult) => r.key !== lostKey),
      }),
    );
    await Deno.writeTextFile(join(runs, lost), "");
    const again = await problem("p2", ["--quick", "--steps", "30", "--out", out]).output();
    const text = new TextDecoder().decode(again.stderr);
    assert.equal(again.code, 0, text);
    const said = (name: string) => text.split("\n").filter((l) => l.includes(name));
    assert.ok(
      said(victim).some((l) => /does not parse.*moved aside to .*\.corrupt; restored from .*results\.json/.test(l)),
      text,
    );
    assert.ok(said(lost).some((l) => /moved aside to .*\.corrupt; retraining it/.test(l)), text);
    assert.equal(text.match(/: training \(key/g)?.length, 1, "only the run results.json did not hold is retrained");
    assert.equal(await Deno.readTextFile(join(runs, `${victim}.corrupt`)), '{"schema": 2, "key": "trunc');
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(runs, victim))), JSON.parse(intact));
    const results = JSON.parse(await Deno.readTextFile(resultsPath));
    assert.equal(results.runs.length, 12);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
