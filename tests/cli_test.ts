import assert from "node:assert/strict";
import { join } from "node:path";
import { MODEL_NAMES } from "../lib/models/model_table.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** `script` is a path from the repository root, or "problem:<id>" for the problem runner (what `deno task <id>` runs). */
async function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [path, pre] = script.startsWith("problem:")
    ? ["lib/cli/problem.ts", [script.slice("problem:".length)]]
    : [script, []];
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, path), ...pre, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function snapshot(dir: string): Promise<string> {
  const entries: string[] = [];
  async function walk(d: string): Promise<void> {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else entries.push(`${p}:${await Deno.readTextFile(p)}`);
    }
  }
  await walk(dir);
  return entries.sort().join("\n");
}

// [script, flags, start of the error message]
const BAD: [string, string[], string][] = [
  ["problem:p1", ["--L", "48"], '--L must be one of 32, 64, got "48"'],
  ["problem:p1", ["--seeds", "0"], "--seeds must be an integer in [1, 20]"],
  ["problem:p1", ["--steps", "0"], "--steps must be an integer in [1, 1000000]"],
  ["problem:p1", ["--steps", "many"], '--steps must be an integer in [1, 1000000], got "many"'],
  ["problem:p1", ["--budget", "0"], "--budget must be an integer in [1, 1000000]"],
  ["problem:p1", ["--bogus"], "unknown flag --bogus"],
  ["problem:p2", ["--eval-samples", "-3"], "--eval-samples must be an integer"],
  ["problem:p2", ["--jobs", "1.5"], "--jobs must be an integer"],
  ["problem:p3", ["--L"], "--L needs a value"],
  ["problem:p3", ["extra"], 'unexpected argument "extra"'],
  ["bench/bench.ts", ["--steps", "5"], "--steps must be an integer in [20, 10000]"],
  ["bench/bench.ts", ["--models", "lstm:8"], '--models: unknown entry "lstm:8"'],
  ["lib/cli/data.ts", ["--M", "17"], "--M must be an integer in [1, K=16], got 17"],
  ["lib/cli/data.ts", ["--tau", "63"], "--tau must be an integer in [1, L-2=62], got 63"],
  ["lib/cli/data.ts", ["--L", "2"], "--L must be an integer in [3, 4096]"],
  ["lib/cli/data.ts", ["--d", "0"], "--d must be an integer in [1, 1024]"],
  ["lib/cli/run.ts", ["--model", "lstm"], `--model must be one of ${MODEL_NAMES.join(", ")}`],
  ["lib/cli/run.ts", ["--M", "0"], "--M must be an integer in [1, 4096]"],
  ["lib/cli/run.ts", ["--M", "20"], "--M must be an integer in [1, K=16], got 20"],
  ["lib/cli/run.ts", ["--tau", "63"], "--tau must be an integer in [1, L-2=62]"],
  ["lib/cli/run.ts", ["--batch", "0"], "--batch must be an integer in [1, 65536]"],
  ["lib/cli/run.ts", ["--steps", "0"], "--steps must be an integer in [1, 10000000]"],
  ["lib/cli/run.ts", ["--d", "8", "--heads", "3", "--model", "tf-rope"], "--heads must divide d=8"],
  ["problem:recipes", ["--steps", "0"], "--steps must be an integer in [1, 1000000]"],
  ["lib/cli/summary.ts", ["--outt", "x"], "unknown flag --outt"],
  ["problem:p4", [], 'unknown problem "p4": one of p1, p2, p3, protocol, recipes'],
  ["problem:p1", ["--out", "FILE"], "--out must be a folder, got"],
  ["lib/cli/report.ts", ["--out", "FILE"], "--out must be a folder, got"],
  ["lib/cli/summary.ts", ["--out", "FILE"], "--out must be a folder, got"],
  ["lib/cli/run.ts", ["--out", "/proc/x.json"], '--out "/proc/x.json" is not writable'],
  ["lib/cli/run.ts", ["--out", ""], "--out must be a file path, got an empty path"],
  ["lib/cli/run.ts", ["--out", "DIR"], "--out must be a file, got"],
  [
    "lib/cli/run.ts",
    ["--save", "/nonexistent-folder/w.safetensors"],
    '--save "/nonexistent-folder/w.safetensors": the folder',
  ],
  ["lib/cli/run.ts", ["--snapshot", "/proc/s.safetensors"], "--snapshot"],
  ["problem:p1", ["--out", ""], "--out must be a folder, got an empty path"],
  ["problem:p1", ["--out", "/proc/reports"], '--out "/proc/reports" is not writable'],
  ["lib/cli/report.ts", ["--out", "/proc/r"], '--out "/proc/r" is not writable'],
  ["bench/bench.ts", ["--out", "/proc/b.json"], '--out "/proc/b.json" is not writable'],
  ["problem:p1", ["--lr", "5"], "--lr must be a number in [0.00001, 1]"],
  ["lib/cli/long_eval.ts", ["--from", "21", "--to", "20"], "--from must not exceed --to"],
  ["lib/cli/long_eval.ts", ["--models", "tf-rope"], "--models must name some of mamba, hybrid"],
  ["problem:p1", ["--heads", "3"], "--heads must divide d=8"],
  ["problem:p1", ["--config", "/nonexistent/c.json"], "--config /nonexistent/c.json: "],
  ["lib/cli/summary.ts", ["--out", "/tmp/recall-lab-no-such-reports"], "no results in /tmp/recall-lab-no-such-reports"],
  ["lib/cli/report.ts", ["--out", "/tmp/recall-lab-no-such-reports"], "no results in /tmp/recall-lab-no-such-reports"],
];

Deno.test("bad flags exit with code 2, one line naming the flag, and nothing written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // An earlier result that must survive every bad command.
    await Deno.mkdir(join(dir, "p1"), { recursive: true });
    await Deno.writeTextFile(join(dir, "p1", "results.json"), '{"earlier": true}\n');
    const file = join(dir, "p1", "results.json");
    const before = await snapshot(dir);
    for (const [script, given, message] of BAD) {
      const flags = given.map((f) => f === "FILE" ? file : f === "DIR" ? dir : f);
      const extra = flags.includes("--out")
        ? []
        : script.startsWith("problem:")
        ? ["--out", dir]
        : script.endsWith("bench.ts") || script.endsWith("run.ts")
        ? ["--out", join(dir, "out.json")]
        : [];
      const r = await run(script, [...flags, ...extra]);
      const what = `${script} ${flags.join(" ")}`;
      assert.equal(r.code, 2, `${what}: exit code ${r.code}; stderr: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      assert.ok(lines[0].startsWith(`error: ${message}`), `${what}: got "${lines[0]}"`);
      assert.equal(await snapshot(dir), before, `${what} changed files on disk`);
    }
    assert.ok(!(await Deno.stat("/tmp/recall-lab-no-such-reports").then(() => true, () => false)), "no folder made");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--help (or -h) prints the usage and every flag, and exits 0", async () => {
  for (
    const script of [
      "problem:p1",
      "problem:p2",
      "problem:p3",
      "bench/bench.ts",
      "lib/cli/data.ts",
      "lib/cli/run.ts",
      "lib/cli/report.ts",
      "lib/cli/summary.ts",
      "lib/cli/screens.ts",
      "lib/cli/long_eval.ts",
      "problem:recipes",
    ]
  ) {
    const r = await run(script, ["--help"]);
    assert.equal(r.code, 0, script);
    assert.ok(r.stdout.includes("Flags:") && r.stdout.includes("-h, --help"), script);
  }
  for (const script of ["problem:p1", "lib/cli/run.ts"]) {
    const short = await run(script, ["-h"]);
    assert.equal(short.code, 0, `${script} -h`);
    assert.ok(short.stdout.includes("Flags:"), `${script} -h`);
  }
});

Deno.test("deno task data prints one JSON example per line with the value tau after the first query", async () => {
  const r = await run("lib/cli/data.ts", ["--n", "5", "--L", "12", "--tau", "3", "--M", "4", "--seed", "2"]);
  assert.equal(r.code, 0);
  const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(rows.length, 5);
  for (const row of rows) {
    assert.equal(row.tokens.length, 12);
    assert.equal(row.tokens[row.queryIndex + 3], row.label);
    assert.equal(row.tokens[row.queryIndex], row.tokens[11]);
    assert.ok(row.tokens[11] < 4);
  }
  const e = await run("lib/cli/data.ts", ["--embedding", "--K", "16", "--d", "8"]);
  const V = JSON.parse(e.stdout);
  assert.equal(V.length, 16);
  assert.ok(Math.abs(V[0].reduce((s: number, x: number) => s + x * x, 0) - 1) < 1e-6);
});

Deno.test("deno task bench times every step of every round and writes them with the peak RSS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "bench.json");
    const args = ["--models", "tf-nope:8", "--steps", "20", "--warmup", "1", "--eval-seqs", "16", "--rounds", "2"];
    const r = await run("bench/bench.ts", [...args, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /tf-nope +d=8 +h=2 step [\d.]+ ms \(min [\d.]+, max [\d.]+, n=40\)/);
    const b = JSON.parse(await Deno.readTextFile(out));
    assert.equal(b.rounds, 2);
    assert.equal(b.rows.length, 1);
    assert.equal(b.rows[0].stepTimes.length, 40);
    assert.ok(b.rows[0].stepTimes.every((ms: number) => ms > 0));
    assert.ok(b.rows[0].step.minMs <= b.rows[0].step.medianMs && b.rows[0].step.medianMs <= b.rows[0].step.maxMs);
    assert.ok(b.rows[0].evalSeqPerSec > 0 && b.peakRssMb > 50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task figure writes a study's chart as a standalone SVG from the committed results", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "f.svg");
    const r = await run("lib/cli/figure.ts", ["--study", "protocol", "--part", "protocol-stopped", "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const svg = await Deno.readTextFile(out);
    assert.ok(svg.startsWith("<svg") && svg.includes('xmlns="http://www.w3.org/2000/svg"'));
    const bad = await run("lib/cli/figure.ts", ["--study", "protocol", "--part", "nope", "--out", out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--part must be one of protocol-stopped/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task answers names the sentence the runs do not support, in one line, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "p1"));
    // synthetic runs at L = 32 with other budgets: the answers' lookups and checks cannot all hold on them
    await Deno.writeTextFile(join(dir, "p1", "results.json"), JSON.stringify(fixtureResults("p1")));
    const r = await run("lib/cli/answers.ts", ["--problem", "p1", "--out", dir]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n").filter((l) => !l.includes("runs are in"));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: p1\/answers\.md: .*, in the sentence "/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task summary --glance prints each problem's results-at-a-glance table", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "p1"));
    await Deno.writeTextFile(join(dir, "p1", "results.json"), JSON.stringify(fixtureResults("p1")));
    const r = await run("lib/cli/summary.ts", ["--glance", "--out", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /p1: \d+ of \d+ runs/);
    assert.match(r.stdout, /\| model \| τ \| at L \| at 2L \| at 3L \| steps to 99% \| converged \|/);
    assert.match(r.stdout, /\| Mamba \| 1 \| [\d.]+%/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
