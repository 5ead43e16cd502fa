/**
 * The streaming evaluator (lib/models/long_forward.ts, lib/training/evaluate_long.ts) against the full forward:
 * last-position logits to 1e-5 for every model at lengths that are and are not multiples of the chunk, chunk sizes
 * 1, 7 and 64; accuracy equal to batchAccuracy on the same sequences; the streamed rows equal arBatch's; bad
 * settings are one-line ConfigErrors naming the flag.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import {
  ConfigError,
  type ExperimentConfig,
  MODEL_NAMES,
  type ModelName,
  resolve,
  type RunModel,
} from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { ArRowStream, rowStarts } from "../lib/task/ar_stream.ts";
import { LongForward, weightsOfModel } from "../lib/models/long_forward.ts";
import { bytesPerSequence, checkLongEval, evaluateLong } from "../lib/training/evaluate_long.ts";
import { batchAccuracy } from "../lib/training/train.ts";
import { TINY } from "./fixtures/tiny_run.ts";
import { coreKernels } from "../lib/kernels/mamba_kernels.ts";
import { streamScan } from "../lib/kernels/mamba_stream_kernels.ts";
import { reserve, view } from "../lib/kernels/assembler.ts";
import { mt19937 } from "../lib/task/random.ts";

await initBackend();

const TOLERANCE = 1e-5;

function tinyModel(model: ModelName, d = 8, extra: Partial<ExperimentConfig> = {}): RunModel {
  const config = resolve({ ...TINY, model, d, ...extra });
  return buildModel(config, substream(config.seed, "init"));
}

/** Largest |streamed - full| over the last-position logits of b sequences of length l fed in chunks of `chunk`. */
function streamedError(model: RunModel, l: number, chunk: number, b = 3): number {
  const batch = arBatch(substream(11, `t:${l}`), { K: model.config.K, M: model.config.M, tau: model.config.tau }, b, l);
  const full = tf.tidy(() => model.logits(batch.tokens, b, l).dataSync() as Float32Array); // [b, K]
  const forward = new LongForward(weightsOfModel(model), b, l);
  for (let t0 = 0; t0 < l; t0 += chunk) {
    const c = Math.min(chunk, l - t0);
    const tokens = new Int32Array(b * c); // [b, c]
    for (let bi = 0; bi < b; bi++) tokens.set(batch.tokens.subarray(bi * l + t0, bi * l + t0 + c), bi * c);
    forward.push(tokens, c);
  }
  const got = forward.logits();
  assert.equal(got.length, full.length);
  let err = 0;
  for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - full[i]));
  return err;
}

const CASES: [ModelName, number][] = [...MODEL_NAMES.map((m): [ModelName, number] => [m, 8]), ["mamba", 64], [
  "hybrid",
  64,
]];

for (const [name, d] of CASES) {
  Deno.test(`${name} d=${d}: streamed last-position logits equal model.logits to 1e-5`, () => {
    const model = tinyModel(name, d);
    try {
      for (const chunk of [1, 7, 64]) {
        for (const l of [3, 7, 40, 130]) {
          if (chunk === 1 && l > 40) continue; // one token per push: slow, and 40 already spans 40 pushes
          const err = streamedError(model, l, chunk);
          assert.ok(err <= TOLERANCE, `l=${l} chunk=${chunk}: max |diff| ${err}`);
        }
      }
    } finally {
      model.dispose();
    }
  });
}

Deno.test("scan_stream in chunks gives the training scan's y bit for bit (state carried across 5 chunks)", () => {
  const n = 16, r = 1, e = 16, l = 150;
  const k = coreKernels(n, r, 4, e);
  const P = k.p;
  const rng = mt19937(7);
  const fill = (a: Float32Array, lo: number, hi: number) => a.forEach((_, i) => a[i] = lo + (hi - lo) * rng.double());
  const delta = new Float32Array(l * e), u = new Float32Array(l * e), xdbl = new Float32Array(l * P); // [l, e], [l, P]
  const a = new Float32Array(e * n), D = new Float32Array(e); // [e, n], [e]
  fill(delta, 1e-3, 0.3);
  fill(u, -2, 2);
  fill(xdbl, -1, 1);
  fill(a, -16, -0.5);
  fill(D, 0.5, 1.5);
  const at = reserve(k.memory, {
    delta: l * e,
    u: l * e,
    xdbl: l * P,
    a: e * n,
    D: e,
    yFull: l * e,
    yStream: l * e,
    state: e * n,
    scratch: l * n,
  });
  view(k.memory, at.delta, l * e).set(delta);
  view(k.memory, at.u, l * e).set(u);
  view(k.memory, at.xdbl, l * P).set(xdbl);
  view(k.memory, at.a, e * n).set(a);
  view(k.memory, at.D, e).set(D);
  view(k.memory, at.state, e * n).fill(0);
  const b0 = at.xdbl + 4 * r, c0 = at.xdbl + 4 * (r + n); // B and C columns
  k.scanForward(at.delta, at.u, b0, c0, at.a, at.D, 1, l, e, 4 * P, at.yFull, at.scratch);
  const scan = streamScan(n, k.memory);
  let t0 = 0;
  for (const c of [5, 64, 1, 63, 17]) {
    const row = (offset: number, width: number) => offset + 4 * width * t0;
    scan(
      row(at.delta, e),
      row(at.u, e),
      row(b0, P),
      row(c0, P),
      at.a,
      at.D,
      c,
      e,
      4 * P,
      at.state,
      row(at.yStream, e),
      0,
      at.scratch,
    );
    t0 += c;
  }
  assert.equal(t0, l);
  const full = new Uint32Array(view(k.memory, at.yFull, l * e).slice().buffer);
  const streamed = new Uint32Array(view(k.memory, at.yStream, l * e).slice().buffer);
  assert.ok(full.every((bits) => bits !== 0), "a y was exactly 0: the comparison could be vacuous");
  assert.deepEqual(streamed, full);
});

Deno.test("streamed rows are arBatch's rows, draw for draw, whatever the chunking", () => {
  const spec = { K: 16, M: 4, tau: 3 };
  const batch = arBatch(substream(5, "rows"), spec, 4, 50);
  const rng = substream(5, "rows");
  for (let r = 0; r < 4; r++) {
    const row = new ArRowStream(rng, spec, 50);
    const out = new Int32Array(50);
    for (const [from, to] of [[0, 1], [1, 8], [8, 49], [49, 50]]) row.fill(out.subarray(from, to));
    assert.deepEqual(out, batch.tokens.subarray(r * 50, (r + 1) * 50));
    assert.equal(row.label, batch.labels[r]);
    assert.equal(row.queryIndex, batch.queryIndex[r]);
  }
  // rowStarts leaves the stream where arBatch leaves it, and each start replays its row
  const a = substream(5, "rows"), b = substream(5, "rows");
  const starts = rowStarts(a, spec, 50, 4);
  arBatch(b, spec, 4, 50);
  assert.equal(a.u32(), b.u32());
  assert.deepEqual(starts.map((s) => s.label), Array.from(batch.labels));
});

for (const name of MODEL_NAMES) {
  Deno.test(`${name}: evaluateLong's accuracy is batchAccuracy's on the same sequences`, () => {
    const model = tinyModel(name);
    try {
      const c = model.config, samples = 24, lengths = [5, 33, 48];
      const got = evaluateLong(model, lengths, samples, { chunk: 16, budgetMb: 16 });
      const want = lengths.map((length) => {
        const batch = arBatch(substream(c.seed, `eval:length=${length}`), c, samples, length);
        return { length, accuracy: batchAccuracy(model, batch), samples };
      });
      assert.deepEqual(got, want);
    } finally {
      model.dispose();
    }
  });
}

Deno.test("at 64 samples per length evaluateLong counts exactly what batchAccuracy counts", () => {
  const model = tinyModel("mamba");
  try {
    const lengths = [6, 7, 8, 9, 10, 11];
    const got = evaluateLong(model, lengths, 64, { chunk: 3 });
    const c = model.config;
    const want = lengths.map((length) =>
      batchAccuracy(model, arBatch(substream(c.seed, `eval:length=${length}`), c, 64, length))
    );
    assert.deepEqual(got.map((r) => r.accuracy), want);
    assert.ok(new Set(want).size > 1, `every length scored ${want[0]}: the comparison would be vacuous`);
  } finally {
    model.dispose();
  }
});

Deno.test("mamba and hybrid at d=8: still 1e-5 at 3000 tokens in chunks of 1024", () => {
  for (const name of ["mamba", "hybrid"] as const) {
    const model = tinyModel(name);
    try {
      const err = streamedError(model, 3000, 1024, 2);
      assert.ok(err <= TOLERANCE, `${name}: max |diff| ${err}`);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("a Mamba model's working set does not grow with the length; attention's does", () => {
  const mamba = resolve({ ...TINY, model: "mamba" }), hybrid = resolve({ ...TINY, model: "hybrid" });
  assert.equal(bytesPerSequence(mamba, 2 ** 10, 4096), bytesPerSequence(mamba, 2 ** 30, 4096));
  assert.ok(bytesPerSequence(hybrid, 2 ** 20, 4096) > bytesPerSequence(hybrid, 2 ** 10, 4096));
});

Deno.test("bad lengths, chunks, samples and budgets are ConfigErrors naming the flag", () => {
  const mamba = resolve({ ...TINY, model: "mamba" });
  const nope = resolve({ ...TINY, model: "tf-nope" });
  const learned = resolve({ ...TINY, model: "tf-learned" });
  const cases: [ReturnType<typeof resolve>, number[], number, { chunk?: number; budgetMb?: number }, string][] = [
    [mamba, [64], 8, { chunk: 0 }, "chunk"],
    [mamba, [64], 8, { chunk: 1.5 }, "chunk"],
    [mamba, [64], 8, { chunk: 65537 }, "chunk"],
    [mamba, [2], 8, {}, "lengths"],
    [mamba, [], 8, {}, "lengths"],
    [mamba, [2 ** 31], 8, {}, "lengths"],
    [mamba, [64], 0, {}, "samples"],
    [mamba, [64], 8, { budgetMb: 1 }, "budget-mb"],
    [nope, [2 ** 14 + 1], 8, {}, "lengths"],
    [learned, [learned.maxLen + 1], 8, {}, "lengths"],
    [resolve({ ...TINY, model: "hybrid", d: 64 }), [2 ** 22], 1, { budgetMb: 512 }, "budget-mb"],
    [resolve({ ...TINY, model: "mamba", d: 6 }), [64], 1, {}, "d"],
  ];
  for (const [config, lengths, samples, opts, flag] of cases) {
    assert.throws(() => checkLongEval(config, lengths, samples, opts), (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.flag, flag, e.message);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  }
  assert.deepEqual(checkLongEval(nope, [2 ** 14], 1, { chunk: 512 }), { chunk: 512, budgetMb: 512 });
});

/** `deno run -A bench/bench.ts args` from the repository root: exit code, stdout, stderr. */
async function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const root = new URL("..", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "bench/bench.ts", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("deno task bench --long: a length, chunk or budget out of range is one line and exit 2", async () => {
  const cases: [string[], string][] = [
    [["--chunk", "0"], "error: --chunk must be an integer in [1, 65536]"],
    [["--length", "2"], "error: --length must be an integer in [3, 1073741824]"],
    [["--attention-length", "16385"], "error: --attention-length must be an integer in [3, 16384]"],
    [["--budget-mb", "20"], "error: --budget-mb must be at least"],
  ];
  for (const [args, message] of cases) {
    const r = await bench(["--long", ...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.ok(lines[0].startsWith(message), lines[0]);
  }
});

Deno.test("deno task bench --long prints a row per case with seconds, CPU seconds and peak RSS", async () => {
  const r = await bench(["--long", "--length", "300", "--attention-length", "40", "--chunk", "64", "--skip-hybrid"]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split("\n").filter((l) => /^\| (mamba|tf-rope) /.test(l));
  assert.deepEqual(rows.map((l) => l.split("|").slice(1, 4).map((s) => s.trim())), [
    ["mamba", "64", "300"],
    ["mamba", "8", "300"],
    ["tf-rope", "8", "40"],
  ]);
  for (const row of rows) {
    const cells = row.split("|").map((s) => s.trim());
    assert.ok(Number(cells[4]) > 0 && Number(cells[5]) > 0 && Number(cells[7]) > 0, row);
  }
});
