import assert from "node:assert/strict";
import { join } from "node:path";
import { fixtureRun } from "./fixtures/results_fixture.ts";
import { loadProblems } from "../lib/site/pages.ts";
import { parseProblemFlags, problemPlan } from "../lib/cli/problem.ts";
import { planCounts, planRows, statusText } from "../lib/store/plan.ts";
import { shardsOfPlan } from "../lib/store/shard.ts";
import { countsText, planTable } from "../lib/cli/plan_table.ts";
import { type Claim, hostName } from "../lib/store/claims.ts";
import { saveSnapshot, snapshotPath } from "../lib/training/train_snapshot.ts";
import { substream } from "../lib/task/random.ts";

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("the plan tells finished, copied, claimed, stale and pending runs apart, and counts them per shard", async () => {
  const out = await Deno.makeTempDir({ prefix: "plan_" });
  try {
    const problems = await loadProblems();
    const p1 = problems.find((p) => p.id === "p1")!;
    const { settings } = parseProblemFlags(["--quick", "--out", out], "")!;
    const { jobs, keys } = await problemPlan(p1, settings);
    const runs = join(out, "p1", "runs"), elsewhere = join(out, "p2", "runs");
    await Deno.mkdir(runs, { recursive: true });
    await Deno.mkdir(elsewhere, { recursive: true });
    const run = (i: number) => JSON.stringify({ ...fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1 }), key: keys[i] });
    await Deno.writeTextFile(join(runs, `${keys[0]}.json`), run(0));
    await Deno.writeTextFile(join(elsewhere, `${keys[1]}.json`), run(1));
    const remote: Claim = { key: keys[2], host: "node-b", pid: 4242, startedAt: "2026-12-02T10:00:00.000Z" };
    await Deno.writeTextFile(join(runs, `${keys[2]}.claim`), JSON.stringify(remote));
    await Deno.writeTextFile(join(runs, `${keys[3]}.json`), '{"schema": 3, "key": "trunc');
    const gone: Claim = { key: keys[4], host: hostName(), pid: await deadPid(), startedAt: "2026-12-02T10:00:00.000Z" };
    await Deno.writeTextFile(join(runs, `${keys[4]}.claim`), JSON.stringify(gone));

    // Run 5 was stopped part-way: its snapshot (here a minimal one) says where it resumes; one of another run does not.
    const snapshot = (step: number) => ({
      step,
      cap: 30,
      passing: 0,
      history: [],
      stepMs: [1],
      seconds: 1,
      weights: [{ name: "w", shape: [1], data: new Float32Array(1) }],
      adam: { t: step, m: [new Float32Array(1)], v: [new Float32Array(1)] },
      train: substream(0, "train").snapshot(),
    });
    await saveSnapshot(snapshotPath(join(runs, `${keys[5]}.json`)), keys[5], snapshot(20));
    await saveSnapshot(snapshotPath(join(runs, `${keys[6]}.json`)), keys[7], snapshot(10));
    const shards = shardsOfPlan(jobs, keys, 3);
    const all = jobs.map((_, i) => i);
    const rows = await planRows(jobs, keys, all, shards, join(out, "p1"), [{ id: "p2", runsDir: elsewhere }]);
    assert.deepEqual(rows.map((r) => r.status), [
      "finished",
      "reusable",
      "claimed",
      "pending",
      "stale",
      ...Array(5).fill("pending"),
    ]);
    assert.equal(statusText(rows[1]), "finished in p2 (copied, not trained)");
    assert.equal(statusText(rows[2]), "claimed by pid 4242 on node-b since 2026-12-02T10:00:00.000Z");
    assert.match(statusText(rows[3]), /^pending \(run file does not parse .*: retrained\)$/);
    assert.match(statusText(rows[4]), new RegExp(`^stale claim: pid ${gone.pid} on ${hostName()} has exited`));
    assert.equal(statusText(rows[5]), "pending; resumes at step 20");
    assert.equal(statusText(rows[6]), "pending");
    assert.deepEqual(rows.map((r) => r.snapshotStep), [null, null, null, null, null, 20, null, null, null, null]);
    assert.deepEqual(rows.map((r) => r.shard), shards);

    const total = planCounts(rows);
    assert.deepEqual([total.runs, total.finished, total.claimed, total.pending], [10, 2, 1, 7]);
    const left = rows.filter((r) => r.index >= 2).reduce((s, r) => s + r.estSeconds, 0);
    assert.ok(Math.abs(total.estSecondsLeft - left) < 1e-9);
    const perShard = [0, 1, 2].map((s) => planCounts(rows.filter((r) => r.shard === s)));
    assert.equal(perShard.reduce((n, c) => n + c.runs, 0), 10);
    assert.equal(perShard.reduce((n, c) => n + c.finished, 0), 2);
    assert.match(countsText(total), /^10 runs: 2 finished, 1 claimed, 7 pending; est\. [\d.]+ s \([\d.]+ s left\)$/);

    const table = planTable(rows.slice(0, 3), 10, 3).split("\n");
    assert.equal(table.length, 5);
    assert.match(table[0], /^#\s+key\s+run\s+shard\s+est\. s\s+status$/);
    assert.ok(table[1].startsWith(`1  ${keys[0]}  tf-learned tau=1 seed 0  ${shards[0]}/3`), table[1]);
    const statusColumn = table[0].indexOf("status");
    assert.ok(table.slice(1, 4).every((l) => l.slice(statusColumn - 2, statusColumn) === "  "), "columns line up");
    assert.equal(table[4], "(3 of 10 planned runs listed)");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("--lr, --heads, --init and --config override every run's setting, and so its key", async () => {
  const problems = await loadProblems();
  const p1 = problems.find((p) => p.id === "p1")!;
  const plan = async (argv: string[]) => await problemPlan(p1, parseProblemFlags(argv, "")!.settings);
  const base = await plan([]);
  const over = await plan(["--lr", "0.003", "--heads", "4", "--init", "scaled-normal"]);
  assert.ok(over.jobs.every((j) => j.config.lr === 0.003 && j.config.init === "scaled-normal"));
  assert.ok(over.jobs.filter((j) => j.config.model.startsWith("tf-")).every((j) => j.config.heads === 4));
  assert.ok(over.keys.every((k) => !base.keys.includes(k)), "an override is a different run");
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "c.json"), JSON.stringify({ warmup: 7, lr: 0.002 }));
    const file = await plan(["--config", join(dir, "c.json")]);
    assert.ok(file.jobs.every((j) => j.config.warmup === 7 && j.config.lr === 0.002));
    await Deno.writeTextFile(join(dir, "bad.json"), JSON.stringify({ tau: 3 }));
    await assert.rejects(plan(["--config", join(dir, "bad.json")]), /"tau" is not a setting it may override/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--budget is --steps under the name the protocol uses: the same runs and keys, and not both", async () => {
  const p1 = (await loadProblems()).find((p) => p.id === "p1")!;
  const plan = async (argv: string[]) => await problemPlan(p1, parseProblemFlags(argv, "")!.settings);
  const byBudget = await plan(["--budget", "1234"]);
  assert.ok(byBudget.jobs.every((j) => j.config.steps === 1234));
  assert.deepEqual(byBudget.keys, (await plan(["--steps", "1234"])).keys);
  assert.notDeepEqual(byBudget.keys, (await plan([])).keys);
  assert.throws(() => parseProblemFlags(["--budget", "10", "--steps", "10"], ""), /--budget and --steps are the same/);
});
