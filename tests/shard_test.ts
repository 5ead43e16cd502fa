import assert from "node:assert/strict";
import { join } from "node:path";
import { problemCommand } from "./fixtures/spawn.ts";
import { assignShards, parseShard, shardLoads, shardsOfPlan } from "../lib/store/shard.ts";
import { estimatedSeconds, stepMs } from "../lib/store/run_cost.ts";
import { loadProblems } from "../lib/site/pages.ts";
import { parseProblemFlags, problemPlan, sweepCommand } from "../lib/cli/problem.ts";

Deno.test("--shard accepts i/N with 0 <= i < N and nothing else", () => {
  assert.deepEqual(parseShard("0/3"), { index: 0, count: 3 });
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  assert.deepEqual(parseShard("0/1"), { index: 0, count: 1 });
  assert.deepEqual(parseShard(" 1 / 2 "), { index: 1, count: 2 });
  for (const bad of ["0/0", "3/3", "-1/2", "1/0", "garbage", "", "1/2/3", "1.5/3", "1/", "/3", "0x1/3", "0/10001"]) {
    assert.equal(parseShard(bad), null, bad);
  }
});

Deno.test("bad --shard values are one-line usage errors (exit 2) that create nothing", async () => {
  const out = await Deno.makeTempDir({ prefix: "shard_" });
  try {
    const target = join(out, "never");
    const bad = ["0/0", "3/3", "-1/2", "1/0", "garbage"];
    const results = await Promise.all(
      bad.map((v) => problemCommand("p1", ["--quick", "--out", target, "--shard", v]).output()),
    );
    results.forEach((r, i) => {
      const err = new TextDecoder().decode(r.stderr).trim();
      assert.equal(r.code, 2, `${bad[i]}: ${err}`);
      assert.equal(err.split("\n").length, 1, err);
      assert.match(err, new RegExp(`^error: --shard must be i/N .*got "${bad[i]}"$`));
    });
    assert.equal(await Deno.stat(target).then(() => true, () => false), false, "no output folder was created");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the partition puts the costliest runs on different shards, least-loaded first, ties by key", () => {
  const items = [
    { key: "a", cost: 1 },
    { key: "b", cost: 10 },
    { key: "c", cost: 1 },
    { key: "d", cost: 10 },
    { key: "e", cost: 1 },
    { key: "f", cost: 10 },
    { key: "g", cost: 3 },
  ];
  // Longest first: b, d, f (ties by key) onto shards 0, 1, 2; then g (3) onto shard 0 (all at 10, lowest index);
  // then a, c, e (1 each) onto the least loaded: shard 1, shard 2, then shard 1 or 2 at 11 -> shard 1.
  assert.deepEqual(assignShards(items, 3), [1, 0, 2, 1, 1, 2, 0]);
  assert.deepEqual(shardLoads(items, assignShards(items, 3), 3), [13, 12, 11]);
  // The order the runs come in does not matter: each key gets the same shard.
  const reversed = [...items].reverse();
  const byKey = (its: typeof items, s: number[]) => Object.fromEntries(its.map((it, i) => [it.key, s[i]]));
  assert.deepEqual(byKey(reversed, assignShards(reversed, 3)), byKey(items, assignShards(items, 3)));
  // The same run planned twice lands in one shard, counted once.
  const twice = [...items, { key: "b", cost: 10 }];
  const s = assignShards(twice, 3);
  assert.equal(s[7], s[1]);
  assert.deepEqual(shardLoads(twice, s, 3), [13, 12, 11]);
  // One shard takes everything; more shards than runs leave some empty.
  assert.deepEqual(assignShards(items, 1), items.map(() => 0));
  assert.equal(new Set(assignShards(items, 20)).size, items.length);
  assert.throws(() => assignShards(items, 0), /positive integer/);
});

Deno.test("the cost model gives revision 3's median steps (Mamba 12.3 / 174.9 ms, attention 5.9 / 125.6)", () => {
  const base = { model: "mamba", K: 16, M: 4, L: 64, tau: 1, seed: 0, batch: 64 } as const;
  assert.ok(Math.abs(stepMs({ ...base, d: 8 }) - 12.3) < 0.1, `${stepMs({ ...base, d: 8 })}`);
  assert.ok(Math.abs(stepMs({ ...base, d: 64 }) - 174.9) < 0.1, "Problem 3's first screens");
  assert.ok(Math.abs(stepMs({ ...base, d: 64, model: "tf-rope" }) - 125.6) < 0.1);
  assert.ok(Math.abs(stepMs({ ...base, d: 8, model: "hybrid" }) - 9.1) < 0.1, "the Hybrid measured 10.4");
  const run = (d: number, steps: number) => estimatedSeconds({ ...base, d, steps });
  assert.ok(run(64, 8000) > 3 * run(8, 20000), "a d=64 run at 8000 steps outweighs three d=8 runs at 20000");
  assert.ok(run(8, 20000) > 2 * run(8, 6000));
});

async function planOf(id: string, argv: string[]) {
  const problems = await loadProblems();
  const problem = problems.find((p) => p.id === id)!;
  const { settings } = parseProblemFlags(argv, "", problem.defaultSeeds)!;
  return await problemPlan(problem, settings);
}

Deno.test("every planned run of p1 and p3 lands in exactly one shard, and the shards' costs are balanced", async () => {
  for (
    const [id, argv, n] of [["p1", ["--quick"], 3], ["p1", [], 4], ["p3", [], 3], ["p3", ["--seeds", "1"], 2]] as const
  ) {
    const plan = await planOf(id, [...argv]);
    const shards = shardsOfPlan(plan.jobs, plan.keys, n);
    const selected = await Promise.all(
      Array.from({ length: n }, (_, i) => planOf(id, [...argv, "--shard", `${i}/${n}`]).then((p) => p.selected)),
    );
    plan.jobs.forEach((_, j) => {
      const owners = selected.flatMap((sel, i) => sel[j] ? [i] : []);
      assert.deepEqual(owners, [shards[j]], `${id} ${argv.join(" ")} run ${j} is in shards ${owners}`);
    });
    const costs = plan.jobs.map((job, j) => ({ key: plan.keys[j], cost: estimatedSeconds(job.config) }));
    const loads = shardLoads(costs, shards as number[], n);
    const largest = Math.max(...costs.map((c) => c.cost));
    // Greedy longest-first never leaves two shards further apart than the largest single run.
    assert.ok(Math.max(...loads) - Math.min(...loads) <= largest, `${id}: loads ${loads}`);
  }
  // p3's d=64 runs (the expensive ones) are spread evenly: 12 of them over 3 shards, 4 each.
  const p3 = await planOf("p3", []);
  const s = shardsOfPlan(p3.jobs, p3.keys, 3);
  const wide = [0, 1, 2].map((i) => p3.jobs.filter((j, k) => s[k] === i && j.config.d === 64).length);
  assert.deepEqual(wide, [4, 4, 4]);
});

Deno.test("--shard together with --only partitions only the runs --only selects", async () => {
  const all = await planOf("p1", ["--quick", "--only", "tau=5"]);
  const parts = await Promise.all([0, 1].map((i) => planOf("p1", ["--quick", "--only", "tau=5", "--shard", `${i}/2`])));
  all.jobs.forEach((job, j) => {
    const n = parts.filter((p) => p.selected[j]).length;
    assert.equal(n, job.variant === "tau=5" ? 1 : 0, `${job.variant}`);
  });
});

Deno.test("results.json records the sweep's command without --shard", () => {
  assert.equal(sweepCommand("p1", ["--quick", "--shard", "1/3", "--out", "x"]), "deno task p1 --quick --out x");
  assert.equal(sweepCommand("p1", ["--shard=0/2", "--quick"]), "deno task p1 --quick");
});
