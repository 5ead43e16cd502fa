import assert from "node:assert/strict";
import { join } from "node:path";
import { problemCommand } from "./fixtures/spawn.ts";
import { checkProblemResults, checkRunResult, type ProblemResults, TIMING_FIELDS } from "../lib/store/results.ts";

function problem(name: string, args: string[]): Deno.Command {
  return problemCommand(name, args);
}

async function runProblem(name: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await problem(name, args).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Every JSON file under dir parses and validates, each run file has its checkpoint; returns the run file count. */
async function checkAllFiles(dir: string): Promise<number> {
  let runs = 0;
  for await (const e of Deno.readDir(join(dir, "runs"))) {
    if (!e.name.endsWith(".json") || e.name.endsWith(".probe.json")) continue;
    checkRunResult(JSON.parse(await Deno.readTextFile(join(dir, "runs", e.name))));
    const weights = join(dir, "runs", e.name.replace(/\.json$/, ".safetensors"));
    assert.ok((await Deno.stat(weights).catch(() => null))?.isFile, `${e.name} has no checkpoint beside it`);
    runs++;
  }
  checkProblemResults(JSON.parse(await Deno.readTextFile(join(dir, "results.json"))));
  return runs;
}

function withoutTiming(r: ProblemResults): unknown {
  return JSON.parse(
    JSON.stringify(r, (k, v) => (TIMING_FIELDS as readonly string[]).includes(k) ? undefined : v),
  );
}

Deno.test("a rerun skips finished runs and says so; --fresh retrains to identical results apart from timing", async () => {
  const out = await Deno.makeTempDir();
  try {
    const first = await runProblem("p2", ["--quick", "--steps", "30", "--out", out]);
    assert.equal(first.code, 0, first.stderr);
    const dir = join(out, "p2");
    assert.equal(await checkAllFiles(dir), 12);
    const a: ProblemResults = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(a.runs.length, 12);

    const again = await runProblem("p2", ["--quick", "--steps", "30", "--out", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr.match(/finished run found .*skipped/g)?.length, 12, again.stderr);
    assert.ok(!again.stderr.includes("training (key"), again.stderr);
    // A rerun that only skips keeps the original clock: same start, end and wall time.
    const skipped: ProblemResults = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(skipped.startedAt, a.startedAt);
    assert.equal(skipped.wallSeconds, a.wallSeconds);
    assert.equal(skipped.finishedAt, a.finishedAt);
    // The same runs asked for with another flag that changes no result (--jobs) keep the file byte for byte.
    const bytes = await Deno.readTextFile(join(dir, "results.json"));
    const otherJobs = await runProblem("p2", ["--quick", "--steps", "30", "--out", out, "--jobs", "1"]);
    assert.equal(otherJobs.code, 0, otherJobs.stderr);
    assert.equal(await Deno.readTextFile(join(dir, "results.json")), bytes);

    const fresh = await runProblem("p2", ["--quick", "--steps", "30", "--out", out, "--fresh"]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(fresh.stderr.match(/training \(key/g)?.length, 12);
    const b: ProblemResults = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.deepEqual(withoutTiming(b), withoutTiming({ ...a, command: b.command }));
    assert.ok(a.command.includes("--quick"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("SIGINT mid-sweep leaves only valid files, and rerunning completes the sweep", async () => {
  const out = await Deno.makeTempDir();
  try {
    const dir = join(out, "p1");
    const child = problem("p1", ["--quick", "--steps", "30", "--jobs", "1", "--out", out]).spawn();
    const stderr = new Response(child.stderr).text();
    void child.stdout.cancel();
    // Wait until at least one run has finished, then interrupt.
    const deadline = Date.now() + 60_000;
    let finished = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        finished = [...Deno.readDirSync(join(dir, "runs"))].filter((e) => e.name.endsWith(".json")).length;
      } catch { /* not there yet */ }
      if (finished >= 1) break;
    }
    assert.ok(finished >= 1, "no run finished within 60 s");
    child.kill("SIGINT");
    const status = await child.status;
    const text = await stderr;
    assert.equal(status.code, 130, text);
    assert.ok(text.includes("interrupted by SIGINT"), text);
    const runs = await checkAllFiles(dir);
    assert.ok(runs >= 1 && runs < 10, `runs on disk: ${runs}`);
    const partial: ProblemResults = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.ok(partial.runs.length >= 1 && partial.runs.length < 10);
    assert.equal(partial.planned, 10);
    assert.ok((await Deno.readTextFile(join(dir, "index.html"))).includes("<svg"));

    const resume = await runProblem("p1", ["--quick", "--steps", "30", "--out", out]);
    assert.equal(resume.code, 0, resume.stderr);
    assert.equal(resume.stderr.match(/skipped/g)?.length, runs, resume.stderr);
    assert.equal(await checkAllFiles(dir), 10);
    const done: ProblemResults = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(done.runs.length, 10);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("a run reused from another problem's folder brings its checkpoint and probe, replacing neither", async () => {
  const out = await Deno.makeTempDir();
  try {
    const first = await runProblem("p2", ["--quick", "--steps", "30", "--out", out]);
    assert.equal(first.code, 0, first.stderr);
    const from = join(out, "p2", "runs");
    const to = join(out, "p3", "runs");
    // Problem 3's d = 8 Mamba runs are Problem 2's; give each a probe, and put a probe of our own in Problem 3's
    // folder for the first of them, which must survive the reuse.
    const shared: string[] = [];
    for (const e of [...Deno.readDirSync(from)].sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.name.endsWith(".json") || e.name.endsWith(".probe.json")) continue;
      const run = JSON.parse(await Deno.readTextFile(join(from, e.name)));
      if (run.config.model !== "mamba" || run.config.d !== 8) continue;
      shared.push(run.key);
      await Deno.writeTextFile(join(from, `${run.key}.probe.json`), `probe of ${run.key} in p2`);
    }
    assert.ok(shared.length >= 2, `shared runs: ${shared.join(", ")}`);
    await Deno.mkdir(to, { recursive: true });
    await Deno.writeTextFile(join(to, `${shared[0]}.probe.json`), "p3's own probe");

    const p3 = await runProblem("p3", ["--quick", "--steps", "30", "--out", out]);
    assert.equal(p3.code, 0, p3.stderr);
    assert.equal(p3.stderr.match(/reused with its checkpoint and probe/g)?.length, shared.length - 1, p3.stderr);
    assert.equal(p3.stderr.match(/reused with its checkpoint$/gm)?.length, 1, p3.stderr);
    const total = await checkAllFiles(join(out, "p3"));
    assert.match(
      p3.stderr,
      new RegExp(
        `p3: ${total - shared.length} run\\(s\\) trained, ${shared.length} reused from other problems, 0 found`,
      ),
      "the summary counts reused runs apart from trained ones",
    );
    for (const key of shared) {
      assert.deepEqual(
        await Deno.readFile(join(to, `${key}.safetensors`)),
        await Deno.readFile(join(from, `${key}.safetensors`)),
        `${key}'s checkpoint`,
      );
      const probe = await Deno.readTextFile(join(to, `${key}.probe.json`));
      assert.equal(probe, key === shared[0] ? "p3's own probe" : `probe of ${key} in p2`);
    }
    assert.equal(await checkAllFiles(join(out, "p3")), 7);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
