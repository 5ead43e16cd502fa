import assert from "node:assert/strict";
import { join } from "node:path";
import { problemCommand, ROOT } from "./fixtures/spawn.ts";
import { checkProblemResults, type ProblemResults, TIMING_FIELDS } from "../lib/store/results.ts";
import { type Claim, hostName } from "../lib/store/claims.ts";

async function run(id: string, args: string[]): Promise<string> {
  const r = await problemCommand(id, args).output();
  const err = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, err);
  return err;
}

/** `deno run lib/cli/<script>.ts ...args`; stdout and stderr. */
async function script(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "lib", "cli", `${name}.ts`), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

async function results(out: string): Promise<ProblemResults> {
  const r = JSON.parse(await Deno.readTextFile(join(out, "p1", "results.json")));
  checkProblemResults(r);
  return r;
}

/** A results file without its timing fields, and with --out's folder spelled OUT in the command. */
function comparable(r: ProblemResults, out: string): unknown {
  const plain = { ...r, command: r.command.replaceAll(out, "OUT") };
  return JSON.parse(
    JSON.stringify(plain, (k, v) => (TIMING_FIELDS as readonly string[]).includes(k) ? undefined : v),
  );
}

interface PlanLine {
  kind: string;
  index?: number;
  key?: string;
  shard?: string;
  status?: string;
  holder?: Claim | null;
  runs?: number;
  finished?: number;
  claimed?: number;
  pending?: number;
  planned?: number;
}

async function plan(out: string, extra: string[]): Promise<PlanLine[]> {
  const r = await script("plan", ["p1", "--quick", "--steps", "30", "--out", out, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l));
}

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("p1 --quick as 3 shards into one folder merges into the single-machine results.json apart from timing", async () => {
  const single = await Deno.makeTempDir({ prefix: "shards_single_" });
  const shared = await Deno.makeTempDir({ prefix: "shards_shared_" });
  try {
    const flags = (out: string) => ["--quick", "--steps", "30", "--out", out, "--jobs", "1"];
    const [, first] = await Promise.all([run("p1", flags(single)), run("p1", [...flags(shared), "--shard", "0/3"])]);
    const expected = await results(single);
    assert.equal(expected.pending, undefined, "a complete sweep lists nothing pending");

    // Shard 0 alone: results.json holds its runs and names every other planned run as pending, in plan order.
    const partial = await results(shared);
    const mine = (await plan(shared, ["--shard", "0/3"])).filter((l) => l.kind === "run");
    assert.deepEqual(partial.runs.map((r) => r.key), mine.map((l) => l.key));
    assert.deepEqual(
      partial.pending!.map((p) => p.key),
      expected.runs.map((r) => r.key).filter((k) => !mine.some((l) => l.key === k)),
    );
    assert.equal(partial.runs.length + partial.pending!.length, partial.planned);
    assert.match(first, /p1 shard 0\/3: its \d run\(s\) are finished; the sweep has \d+\/10 runs, \d+ pending/);

    // Progress: shard 0 is done, the others have not started; a live and a stale claim show up as such.
    const others = (await plan(shared, ["--shards", "3"])).filter((l) => l.kind === "run" && l.shard !== "0/3");
    const live: Claim = { key: others[0].key!, host: hostName(), pid: Deno.pid, startedAt: "2026-12-02T10:00:00.000Z" };
    const stale: Claim = { ...live, key: others[1].key!, pid: await deadPid() };
    const runsDir = join(shared, "p1", "runs");
    for (const c of [live, stale]) await Deno.writeTextFile(join(runsDir, `${c.key}.claim`), JSON.stringify(c));
    const progress = await plan(shared, ["--shards", "3"]);
    const byKey = new Map(progress.filter((l) => l.kind === "run").map((l) => [l.key, l]));
    assert.equal(byKey.get(live.key)!.status, "claimed");
    assert.deepEqual(byKey.get(live.key)!.holder, live);
    assert.equal(byKey.get(stale.key)!.status, "stale");
    const shards = progress.filter((l) => l.kind === "shard");
    assert.deepEqual(shards.map((s) => s.shard), ["0/3", "1/3", "2/3"]);
    assert.equal(shards[0].finished, shards[0].runs);
    assert.equal(shards.reduce((n, s) => n + s.runs!, 0), 10);
    const total = progress.find((l) => l.kind === "total")!;
    assert.deepEqual([total.planned, total.finished, total.claimed, total.pending], [
      10,
      shards[0].runs,
      1,
      9 - shards[0].runs!,
    ]);
    await Deno.remove(join(runsDir, `${live.key}.claim`)); // the live holder "goes away"; the stale one is taken over

    // Shards 1 and 2 at once: whichever finishes last leaves the complete, merged file.
    const [a, b] = await Promise.all([1, 2].map((i) => run("p1", [...flags(shared), "--shard", `${i}/3`])));
    assert.match(a + b, /taking over the claim of pid \d+ on .*, which is no longer running/);
    assert.match(a + b, /the sweep is complete \(10\/10 runs, merged into results\.json\)/);
    const merged = await results(shared);
    assert.equal(merged.pending, undefined);
    assert.equal(merged.command, `deno task p1 --quick --steps 30 --out ${shared} --jobs 1`);
    assert.deepEqual(comparable(merged, shared), comparable(expected, single));
    const left = [...Deno.readDirSync(runsDir)].filter((e) => /\.(claim|lock)/.test(e.name)).map((e) => e.name);
    assert.deepEqual(left, [], "no claim or lock file is left");
    const done = (await plan(shared, ["--shards", "3"])).find((l) => l.kind === "total")!;
    assert.deepEqual([done.finished, done.claimed, done.pending], [10, 0, 0]);
  } finally {
    await Deno.remove(single, { recursive: true });
    await Deno.remove(shared, { recursive: true });
  }
});

Deno.test("deno task report merges runs that other shards finished into a results.json listing them as pending", async () => {
  const out = await Deno.makeTempDir({ prefix: "shards_report_" });
  try {
    await run("p1", ["--quick", "--steps", "30", "--out", out, "--jobs", "2"]);
    const complete = await results(out);
    const path = join(out, "p1", "results.json");
    // As a shard that finished first leaves it: runs 2, 5 and 7 pending. Runs 2 and 5 have their files (their
    // shards were stopped before they could publish); run 7's file is not there yet.
    const open = [2, 5, 7];
    const partial: ProblemResults = {
      ...complete,
      runs: complete.runs.filter((_, i) => !open.includes(i)),
      pending: open.map((i) => ({
        index: i,
        key: complete.runs[i].key,
        model: complete.runs[i].config.model,
        variant: complete.runs[i].variant,
        seed: complete.runs[i].config.seed,
      })),
    };
    await Deno.writeTextFile(path, JSON.stringify(partial, null, 2));
    const seven = join(out, "p1", "runs", `${complete.runs[7].key}.json`);
    await Deno.rename(seven, `${seven}.away`);
    const first = await script("report", ["--out", out]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /merged 2 run\(s\) finished elsewhere; 9\/10 runs, 1 still pending/);
    const nine = await results(out);
    assert.deepEqual(nine.pending!.map((p) => p.index), [7]);
    assert.deepEqual(nine.runs.map((r) => r.key), complete.runs.filter((_, i) => i !== 7).map((r) => r.key));
    const page = await Deno.readTextFile(join(out, "p1", "index.html"));
    assert.match(page, /9 of 10 planned runs finished/);

    await Deno.rename(`${seven}.away`, seven);
    const second = await script("report", ["--out", out]);
    assert.match(second.stderr, /merged 1 run\(s\) finished elsewhere; 10\/10 runs, complete/);
    assert.deepEqual(await results(out), complete);
    const third = await script("report", ["--out", out]);
    assert.doesNotMatch(third.stderr, /merged/, "nothing left to merge");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
