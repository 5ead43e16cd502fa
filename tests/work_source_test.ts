/**
 * The work sources a sweep's lanes take runs from (lib/store/work_source.ts), without training: the claimed source
 * on run files and claims in a temporary folder, two sources standing for two sweeps; then one small sweep through
 * a recording source, which shows the loop's calls.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type Claim, hostName } from "../lib/store/claims.ts";
import type { RunResult } from "../lib/store/results.ts";
import type { PlannedRun } from "../lib/store/sweep_plan.ts";
import {
  aloneSource,
  claimedSource,
  claimPath,
  type Sharing,
  type Work,
  type WorkSetup,
} from "../lib/store/work_source.ts";
import { runSweep } from "../lib/store/sweep.ts";
import { SILENT_REPORTER } from "../lib/store/progress.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";
import { TINY } from "./fixtures/tiny_run.ts";

/** `count` planned runs with files in `dir` (keys k0, k1, ...); the job is never trained here. */
function fakePlan(dir: string, count: number): PlannedRun[] {
  return Array.from({ length: count }, (_, index) => ({
    index,
    job: { variant: `v${index}`, config: TINY },
    key: `k${index}`,
    file: join(dir, `k${index}.json`),
    label: `mamba v${index}`,
    tag: `[${index + 1}/${count}] mamba v${index}`,
  }));
}

/** A setup whose "run files" are the entries of `disk`; `lines` collects what the source logs. */
function setup(plan: PlannedRun[], disk: Map<number, RunResult>, lines: string[]): WorkSetup {
  return {
    plan,
    pending: plan.map((r) => r.index),
    finishedOnDisk: (i) => Promise.resolve(disk.get(i) ?? null),
    lockPath: join(plan[0].file, "..", "results.json.lock"),
    log: (line) => lines.push(line),
  };
}

const finished = (key: string) => ({ key }) as unknown as RunResult;
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("two sweeps' claimed sources never give out one run twice; each takes in the run the other finished", async () => {
  await withTempDir(async (dir) => {
    const plan = fakePlan(dir, 2), disk = new Map<number, RunResult>(), lines: string[] = [];
    const a = claimedSource(setup(plan, disk, lines)), b = claimedSource(setup(plan, disk, lines));
    assert.deepEqual(await a.next(), { kind: "run", index: 0 });
    assert.deepEqual(await b.next(), { kind: "run", index: 1 }, "run 0 is a's: b takes the next one");
    assert.ok(await exists(claimPath(plan[0])) && await exists(claimPath(plan[1])));

    const wait = await a.next();
    assert.equal(wait.kind, "wait");
    assert.match((wait as Extract<Work, { kind: "wait" }>).note!, /^waiting for 1 run\(s\) claimed by pid \d+ on /);
    assert.deepEqual(await a.next(), { kind: "wait", note: null }, "the waiting line comes once a minute");
    assert.deepEqual(a.left(), [1]);

    disk.set(1, finished("k1"));
    await b.release(1);
    assert.deepEqual(await a.next(), { kind: "found", index: 1, run: finished("k1") });
    assert.deepEqual(await a.next(), { kind: "none" });
    disk.set(0, finished("k0"));
    await a.release(0);
    assert.deepEqual(await b.next(), { kind: "found", index: 0, run: finished("k0") });
    assert.deepEqual([a.left(), b.left()], [[], []]);
    assert.ok(!(await exists(claimPath(plan[0]))) && !(await exists(claimPath(plan[1]))), "no claim is left");
    assert.deepEqual(lines, []);
  });
});

Deno.test("lanes asking a claimed source at once get different runs", async () => {
  await withTempDir(async (dir) => {
    const plan = fakePlan(dir, 3);
    const source = claimedSource(setup(plan, new Map(), []));
    const got = await Promise.all([source.next(), source.next(), source.next(), source.next()]);
    assert.deepEqual(got, [
      { kind: "run", index: 0 },
      { kind: "run", index: 1 },
      { kind: "run", index: 2 },
      { kind: "none" },
    ]);
    for (const r of plan) await source.release(r.index);
  });
});

Deno.test("a claimed source takes over a claim whose holder is gone, in one line naming it", async () => {
  await withTempDir(async (dir) => {
    const plan = fakePlan(dir, 1), lines: string[] = [];
    const gone: Claim = { key: "k0", host: hostName(), pid: await deadPid(), startedAt: "2026-12-02T10:00:00.000Z" };
    await Deno.writeTextFile(claimPath(plan[0]), JSON.stringify(gone));
    const source = claimedSource(setup(plan, new Map(), lines));
    assert.deepEqual(await source.next(), { kind: "run", index: 0 });
    assert.deepEqual(lines, [
      `[1/1] mamba v0: taking over the claim of pid ${gone.pid} on ${gone.host} since ${gone.startedAt}, which is ` +
      "no longer running",
    ]);
    assert.equal((JSON.parse(await Deno.readTextFile(claimPath(plan[0]))) as Claim).pid, Deno.pid);
    await source.release(0);
  });
});

Deno.test("a claimed source writes under the results lock; the alone source claims and locks nothing", async () => {
  await withTempDir(async (dir) => {
    const plan = fakePlan(dir, 2);
    const shared = setup(plan, new Map(), []);
    assert.equal(await claimedSource(shared).exclusive(() => exists(shared.lockPath)), true);
    assert.equal(await exists(shared.lockPath), false, "released after the write");

    const alone = aloneSource(shared);
    assert.equal(await alone.exclusive(() => exists(shared.lockPath)), false);
    assert.deepEqual([await alone.next(), await alone.next(), await alone.next()], [
      { kind: "run", index: 0 },
      { kind: "run", index: 1 },
      { kind: "none" },
    ]);
    await alone.release(0);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no claim or lock file");
  });
});

/** A sharing that records the loop's calls on the source it wraps. */
function recording(inner: Sharing, calls: string[]): Sharing {
  return (setup) => {
    const source = inner(setup);
    return {
      next: async () => {
        const work = await source.next();
        calls.push(`next ${work.kind}${"index" in work ? ` ${work.index}` : ""}`);
        return work;
      },
      release: (i) => (calls.push(`release ${i}`), source.release(i)),
      left: () => source.left(),
      exclusive: (write) => (calls.push("write"), source.exclusive(write)),
    };
  };
}

Deno.test("a sweep with the folder to itself is a plain loop: take a run, train it, release it, write results", async () => {
  await withTempDir(async (dir) => {
    const jobs = [0, 1].map((seed) => ({ variant: `seed ${seed}`, config: { ...TINY, seed, farLengths: [] } }));
    const calls: string[] = [];
    const opts = { problem: "t", dir, jobs: 1, fresh: false, command: "test", reporter: SILENT_REPORTER };
    const results = await runSweep(jobs, { ...opts, sharing: recording(aloneSource, calls) });
    assert.deepEqual(calls, ["next run 0", "release 0", "write", "next run 1", "release 1", "write", "write"]);
    assert.equal(results.runs.length, 2);
    assert.equal(results.pending, undefined);
    const names = [...Deno.readDirSync(join(dir, "runs"))].map((e) => e.name);
    assert.deepEqual(names.filter((n) => /\.(claim|lock)$/.test(n)), []);

    calls.length = 0;
    const again = await runSweep(jobs, { ...opts, sharing: recording(aloneSource, calls) });
    assert.deepEqual(calls, ["write"], "finished runs are found on disk; nothing is given out");
    assert.deepEqual(again, results, "and results.json is kept as it was");
  });
});

Deno.test("a run another sweep finishes between the look and the claim is taken in, not trained again", async () => {
  await withTempDir(async (dir) => {
    const plan = fakePlan(dir, 1), lines: string[] = [];
    let looks = 0; // the other sweep writes the run right after this source's first look at the disk
    const source = claimedSource({
      ...setup(plan, new Map(), lines),
      finishedOnDisk: () => Promise.resolve(looks++ === 0 ? null : finished("k0")),
    });
    const work = await source.next();
    assert.equal(work.kind, "found");
    assert.equal(looks, 2, "it looked again once the claim was its own");
    assert.equal(await exists(claimPath(plan[0])), false, "and gave the claim back");
  });
});
