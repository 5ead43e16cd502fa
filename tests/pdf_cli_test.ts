/**
 * `deno task pdf` without a working browser, and what goes into a homework: these need neither Chromium nor
 * poppler (a fake browser script stands in where one must start), so they run on every machine.
 * tests/pdf_test.ts prints real PDFs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { homeworksOf, homeworkTitle } from "../lib/site/homework.ts";
import { importedFiles, listedFiles, MIXER_SOURCES, MODEL_ASSEMBLY, REPO_ROOT } from "../lib/site/code_listing.ts";
import { MIXER_KINDS, MIXERS } from "../lib/models/mixers.ts";
import { loadProblems } from "../lib/site/pages.ts";
import { REGISTRY } from "./fixtures/registry.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function pdfCli(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "lib", "cli", "pdf.ts"), ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Every file under `dir` with its bytes, as one comparable string. */
async function snapshot(dir: string): Promise<string> {
  const entries: string[] = [];
  async function walk(d: string): Promise<void> {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else entries.push(`${p}:${(await Deno.readFile(p)).join(",")}`);
    }
  }
  await walk(dir);
  return entries.sort().join("\n");
}

/** A reports folder with fixture results for p1-p3 and an earlier hw3.pdf / hw4.pdf that must survive. */
async function reportsWithOldPdfs(problems: readonly ("p1" | "p2" | "p3")[] = ["p1", "p2", "p3"]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pdf_cli_" });
  for (const p of problems) {
    await Deno.mkdir(join(dir, p));
    await Deno.writeTextFile(join(dir, p, "results.json"), JSON.stringify(fixtureResults(p)));
  }
  await Deno.writeTextFile(join(dir, "hw3.pdf"), "%PDF-1.4 an earlier homework 3\n");
  await Deno.writeTextFile(join(dir, "hw4.pdf"), "%PDF-1.4 an earlier homework 4\n");
  return dir;
}

/** A stand-in browser: answers --version, then does `then` (a shell line) when asked to print. */
async function fakeBrowser(dir: string, then: string): Promise<string> {
  const path = join(dir, "fake-chromium");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Fake Chromium 1"; exit 0; fi\n${then}\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

Deno.test("without Chromium, deno task pdf says so in one line with the install command, exits 2 and writes nothing", async () => {
  const dir = await reportsWithOldPdfs();
  try {
    const before = await snapshot(dir);
    const r = await pdfCli(["--out", dir], { CHROMIUM: "/nonexistent/chromium" });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: .*\/nonexistent\/chromium is not installed.*apt-get install -y chromium/);
    assert.equal(await snapshot(dir), before, "the folder is unchanged");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A shell line that writes a tiny PDF to the --print-to-pdf path it is given. */
const WRITE_PDF =
  `for a in "$@"; do case "$a" in --print-to-pdf=*) printf '%%PDF-1.4 fake' > "\${a#--print-to-pdf=}";; esac; done`;

Deno.test("a browser that fails or prints nothing leaves the earlier PDFs as they were, and no temporary file", async () => {
  const failures: [string, RegExp][] = [
    ["echo 'printing failed' >&2; exit 1", /exited with code 1/],
    ["exit 0", /no PDF/],
    // homework 3 prints, homework 4 fails: hw3.pdf is not replaced either (all print before any is moved)
    [`case "$*" in *hw4*) exit 1;; esac; ${WRITE_PDF}; exit 0`, /exited with code 1 printing .*hw4\.html/],
  ];
  for (const [then, message] of failures) {
    const dir = await reportsWithOldPdfs();
    const bin = await Deno.makeTempDir({ prefix: "pdf_bin_" });
    try {
      const before = await snapshot(dir);
      const r = await pdfCli(["--out", dir], { CHROMIUM: await fakeBrowser(bin, then) });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(await snapshot(dir), before, `${then}: the folder is unchanged`);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await Deno.remove(bin, { recursive: true });
    }
  }
});

Deno.test("printed PDFs replace the earlier ones by rename, leaving no temporary file", async () => {
  const dir = await reportsWithOldPdfs();
  const bin = await Deno.makeTempDir({ prefix: "pdf_bin_" });
  try {
    const r = await pdfCli(["--out", dir], { CHROMIUM: await fakeBrowser(bin, `${WRITE_PDF}; exit 0`) });
    assert.equal(r.code, 0, r.stderr);
    for (const hw of ["hw3", "hw4"]) assert.equal(await Deno.readTextFile(join(dir, `${hw}.pdf`)), "%PDF-1.4 fake");
    assert.match(r.stderr, /hw3\.pdf: Homework 3: Problem 1, 0 pages/);
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["hw3.pdf", "hw4.pdf", "p1", "p2", "p3"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("a homework whose problems have no results is refused in one line naming the command to run", async () => {
  const dir = await reportsWithOldPdfs(["p1"]);
  const bin = await Deno.makeTempDir({ prefix: "pdf_bin_" });
  try {
    const before = await snapshot(dir);
    const r = await pdfCli(["--out", dir], { CHROMIUM: await fakeBrowser(bin, "exit 1") });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /hw4\.pdf needs finished runs of p2, p3: .* have none \(run deno task p2, deno task p3\)/);
    assert.equal(await snapshot(dir), before);
    const bad = await pdfCli(["--out", dir, "--homework", "5"], { CHROMIUM: "/nonexistent/chromium" });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--homework must be one of 3, 4, got "5"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("homeworks come from the problems' own homework field: 3 is Problem 1, 4 is Problems 2 and 3", () => {
  const hws = homeworksOf(REGISTRY);
  assert.deepEqual(hws.map((hw) => [hw.number, hw.problems.map((p) => p.id)]), [[3, ["p1"]], [4, ["p2", "p3"]]]);
  assert.deepEqual(hws.map(homeworkTitle), ["Homework 3: Problem 1", "Homework 4: Problems 2 and 3"]);
  assert.ok(REGISTRY.some((p) => p.id === "recipes" && p.homework === undefined), "the recipe screen is in no PDF");
});

Deno.test("a problem whose homework is not a positive integer is refused by the registry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "registry_" });
  try {
    await Deno.mkdir(join(dir, "bad"));
    await Deno.writeTextFile(
      join(dir, "bad", "study.ts"),
      `export const study = { id: "bad", title: "t", summary: "s", order: 1, homework: 0, jobs() { return []; } };\n`,
    );
    await assert.rejects(
      loadProblems(new URL(`file://${dir}/`)),
      /bad\/study\.ts: study homework must be a positive integer/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the code appendix lists the problem scripts, the model assembly and exactly the mixers the runs use", async () => {
  for (const kind of MIXER_KINDS) {
    const text = await Deno.readTextFile(join(REPO_ROOT, MIXER_SOURCES[kind]));
    assert.match(text, new RegExp(`export function ${MIXERS[kind].build.name}\\b`), MIXER_SOURCES[kind]);
  }
  const of = (id: string) => ({ problem: REGISTRY.find((p) => p.id === id)!, results: fixtureResults(id as "p1") });
  assert.deepEqual(listedFiles([of("p1")]), [
    "studies/p1/study.ts",
    ...MODEL_ASSEMBLY,
    "lib/models/attention_mixer.ts",
    "lib/models/mamba_mixer.ts",
  ]);
  // Problem 3 trains only Mamba: no attention mixer in its listing
  assert.deepEqual(listedFiles([of("p3")]), ["studies/p3/study.ts", ...MODEL_ASSEMBLY, "lib/models/mamba_mixer.ts"]);
  const files = listedFiles([of("p2"), of("p3")]);
  assert.equal(files[0], "studies/p2/study.ts");
  assert.equal(files[1], "studies/p3/study.ts");
  const imported = await importedFiles(files);
  for (const f of ["lib/models/attention.ts", "lib/models/mamba_core.ts", "lib/recipes/protocol.ts"]) {
    assert.ok(imported.includes(f), `${f} in ${imported.join(", ")}`);
  }
  for (const f of imported) {
    assert.ok(!files.includes(f));
    await Deno.stat(join(REPO_ROOT, f)); // every named file exists
  }
});
