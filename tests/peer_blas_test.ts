import assert from "node:assert/strict";
import { join } from "node:path";
import { blasKindOf, detectPeerBlas } from "../lib/platform/peer_blas.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A stand-in for the peer's python that reports the given mapped libraries, whatever it is asked to run. */
async function fakePython(dir: string, libraries: string[], torchThreads = 1): Promise<string> {
  const path = join(dir, "python3");
  const json = JSON.stringify({ libraries, torchThreads, blasThreads: null });
  await Deno.writeTextFile(path, `#!/bin/sh\necho '${json}'\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "bench/bench.ts"), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const REFERENCE = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
const OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so";

Deno.test("the mapped libraries name the BLAS: OpenBLAS, MKL, the reference libblas, or unknown", () => {
  assert.equal(blasKindOf([REFERENCE]), "reference");
  assert.equal(blasKindOf(["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", OPENBLAS]), "openblas");
  assert.equal(blasKindOf(["/opt/intel/lib/libmkl_rt.so"]), "mkl");
  assert.equal(blasKindOf([]), "unknown");
});

Deno.test("the peer's BLAS and thread count are read from what its python reports", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const b = await detectPeerBlas(await fakePython(dir, [REFERENCE], 3), {});
    assert.equal(b.kind, "reference");
    assert.deepEqual(b.libraries, [REFERENCE]);
    assert.equal(b.torchThreads, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --vs-torch refuses in one line (exit 2) to compare against the reference BLAS, before timing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "bench.json");
    const python = await fakePython(dir, [REFERENCE]);
    const r = await bench(["--vs-torch", "--torch-python", python, "--models", "tf-nope:8", "--out", out]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: the PyTorch peer would run on the reference BLAS .*--allow-reference-blas$/);
    assert.match(r.stdout, /PyTorch peer BLAS: reference/);
    assert.doesNotMatch(r.stdout, /step [\d.]+ ms/, "nothing was timed");
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with --allow-reference-blas bench compares anyway and records the peer's BLAS in bench.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "bench.json");
    const python = await fakePython(dir, [REFERENCE]);
    const args = ["--models", "tf-nope:8", "--steps", "20", "--warmup", "1", "--eval-seqs", "8", "--rounds", "1"];
    const r = await bench(["--vs-torch", "--allow-reference-blas", "--torch-python", python, ...args, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(await Deno.readTextFile(out));
    assert.equal(b.torchBlas.kind, "reference");
    assert.deepEqual(b.torchBlas.libraries, [REFERENCE]);
    assert.equal(b.torchBlas.python, python);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
