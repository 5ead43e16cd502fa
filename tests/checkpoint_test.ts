import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import {
  type ExperimentConfig,
  MODEL_NAMES,
  resolve,
  type ResolvedConfig,
  settingsOf,
} from "../lib/training/config.ts";
import { TRAINING_REVISION } from "../lib/training/revision.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { runExperiment } from "../lib/store/experiment.ts";
import type { LengthAccuracy } from "../lib/training/record.ts";
import { evaluateByLength } from "../lib/training/evaluate.ts";
import { decodeSafetensors, encodeSafetensors, type NamedArray } from "../lib/training/safetensors.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";
import { CheckpointError, contentHash, loadCheckpoint, loadModel, saveCheckpoint } from "../lib/training/checkpoint.ts";
import { modelWeights } from "../lib/training/weight_arrays.ts";

await initBackend();

const ROOT = new URL("..", import.meta.url).pathname;

/** Arrays with awkward values (signed zero, infinities, NaN, subnormals) and shapes (scalar, empty, 3-d). */
function sampleArrays(): NamedArray[] {
  const rng = substream(3, "checkpoint-test");
  const big = new Float32Array(2 * 3 * 5).map(() => rng.gaussian());
  return [
    { name: "layer0.wq", shape: [2, 3, 5], data: big },
    { name: "odd", shape: [3], data: new Float32Array([-0, Infinity, -Infinity]) },
    { name: "nan_and_tiny", shape: [2, 1], data: new Float32Array([NaN, 1e-45]) },
    { name: "scalar", shape: [], data: new Float32Array([Math.PI]) },
    { name: "empty", shape: [0, 4], data: new Float32Array(0) },
  ];
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Small batches, few checks and few evaluation sequences, so each tiny run stays cheap. */
const CHEAP = { evalSamples: 16, checkEvery: 10, testBatch: 64, batch: 32 } as const;

/** A tiny run every model trains in about a second. */
function tinyConfig(model: ExperimentConfig["model"]): ExperimentConfig {
  return { model, K: 16, d: 8, M: 1, L: 16, tau: 1, seed: 0, steps: 30, ...CHEAP };
}

/** Build the initial model of `config`, save it to `path` and dispose it; returns its parameter names and count. */
async function saveInitial(config: ResolvedConfig, path: string): Promise<{ names: string[]; paramCount: number }> {
  const model = buildModel(config, substream(0, "init"));
  try {
    await saveCheckpoint(model, path, { key: "0123456789abcdef" });
    return { names: model.params.map((p) => p.name), paramCount: model.paramCount };
  } finally {
    model.dispose();
  }
}

/** Rewrite a checkpoint with one array replaced (same metadata), as a foreign or damaged file would be. */
/** A copy of a checkpoint with one array replaced (and its content hash made to match, as a writer would). */
async function rewriteArray(from: string, to: string, name: string, shape: number[]): Promise<void> {
  const file = decodeSafetensors(await Deno.readFile(from));
  const tensors = file.tensors.map((t) =>
    t.name === name ? { name, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) } : t
  );
  const order = JSON.parse(file.metadata.params!) as string[];
  const sha256 = await contentHash(order.map((n) => tensors.find((t) => t.name === n)!));
  await Deno.writeFile(to, encodeSafetensors(tensors, { ...file.metadata, sha256 }));
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CheckpointError, `expected a CheckpointError, got ${e}`);
    assert.ok(!e.message.includes("\n"), `not one line: ${e.message}`);
    return e.message;
  }
  assert.fail("expected the load to fail");
}

Deno.test("encode then decode gives back every array bit for bit, with its shape, in order, and the metadata", () => {
  const arrays = sampleArrays();
  const metadata = { key: "abc", note: "ünïcode ✓" };
  const back = decodeSafetensors(encodeSafetensors(arrays, metadata));
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual(back.tensors.map((t) => t.name), arrays.map((a) => a.name));
  back.tensors.forEach((t, i) => {
    assert.deepEqual(t.shape, arrays[i].shape);
    assert.deepEqual(bytesOf(t.data), bytesOf(arrays[i].data), t.name);
  });
});

Deno.test("the file layout is the safetensors spec: u64 length, space-padded JSON, contiguous little-endian data", () => {
  const arrays = sampleArrays();
  const bytes = encodeSafetensors(arrays, { key: "k" });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  assert.equal(n % 8, 0, "data starts 8-byte aligned");
  const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  assert.ok(text.startsWith("{"));
  assert.match(text, /^[^]*\} *$/, "only spaces after the JSON");
  const header = JSON.parse(text);
  assert.deepEqual(header.__metadata__, { key: "k" });
  const dataStart = 8 + n, dataLength = bytes.length - dataStart;
  let expected = 0;
  for (const a of arrays) {
    const entry = header[a.name];
    assert.equal(entry.dtype, "F32");
    assert.deepEqual(entry.shape, a.shape);
    const [begin, end] = entry.data_offsets;
    assert.equal(begin, expected, `${a.name} starts where the previous tensor ended`);
    assert.equal(end - begin, 4 * a.data.length);
    assert.ok(end <= dataLength);
    for (let i = 0; i < a.data.length; i++) {
      const v = view.getFloat32(dataStart + begin + 4 * i, true);
      assert.ok(Object.is(v, a.data[i]) || (Number.isNaN(v) && Number.isNaN(a.data[i])), `${a.name}[${i}]`);
    }
    expected = end;
  }
  assert.equal(expected, dataLength, "the tensors cover the data exactly");
  assert.equal(Object.keys(header).length, arrays.length + 1);
});

Deno.test("decoding refuses truncated, overlapping, wrongly typed or misaligned files with a one-line reason", () => {
  const good = encodeSafetensors(sampleArrays(), {});
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: unknown, data = new Uint8Array(8)): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(data, 8 + json.length);
    return out;
  };
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 5), /shorter than the 8-byte header length/],
    [good.subarray(0, 8 + n - 3), /header length \d+ exceeds the file/],
    [good.subarray(0, good.length - 4), /data_offsets .* outside|cover/],
    [withHeader({ a: { dtype: "F16", shape: [4], data_offsets: [0, 8] } }), /tensor "a": dtype "F16", expected "F32"/],
    [withHeader({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }), /do not hold shape \[3\]/],
    [
      withHeader({
        a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
        b: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      }),
      /not contiguous/,
    ],
    [withHeader({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }), /cover 4 of 8 data bytes/],
    [withHeader({ __metadata__: { n: 1 } }), /__metadata__ is not an object of strings/],
    [withHeader([1, 2]), /not a JSON object/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeSafetensors(bytes), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  }
});

for (const name of MODEL_NAMES) {
  Deno.test(`${name}: a trained run saved and reloaded reproduces its accuracy at every length exactly`, async () => {
    await withTempDir(async (dir) => {
      const path = join(dir, "run.safetensors");
      const r = await runExperiment(tinyConfig(name), { checkpoint: path });
      const ckpt = await loadCheckpoint(path);
      assert.equal(ckpt.key, r.key);
      assert.deepEqual(settingsOf(ckpt.config), r.config);
      // Building and disposing a model leaves no tensor behind, and neither does loading one.
      const beforeBuild = tf.memory().numTensors;
      const initial = buildModel(ckpt.config, substream(ckpt.config.seed, "init"));
      const initialWeights = modelWeights(initial);
      initial.dispose();
      assert.notDeepEqual(initialWeights, ckpt.arrays, "training moved the weights");
      assert.equal(tf.memory().numTensors - beforeBuild, 0, "building and disposing a model leaks no tensor");
      const before = tf.memory().numTensors;
      const model = await loadModel(path);
      let again: LengthAccuracy[];
      try {
        assert.equal(model.paramCount, r.paramCount);
        modelWeights(model).forEach((w, i) => assert.deepEqual(bytesOf(w.data), bytesOf(ckpt.arrays[i].data), w.name));
        again = evaluateByLength(model, model.config);
      } finally {
        model.dispose();
      }
      assert.equal(tf.memory().numTensors - before, 0, "loading and evaluating leaks no tensor");
      assert.equal(again.length, resolve(r.config).evalLengths.length);
      assert.deepEqual(again, r.accuracyByLength);
    });
  });
}

Deno.test("the metadata holds the run key, the settings JSON, the training revision, the parameter order and the Recall Lab version", async () => {
  await withTempDir(async (dir) => {
    const config = resolve(tinyConfig("hybrid"));
    const path = join(dir, "m.safetensors");
    const { names } = await saveInitial(config, path);
    const { metadata, tensors } = decodeSafetensors(await Deno.readFile(path));
    assert.equal(metadata.key, "0123456789abcdef");
    assert.deepEqual(JSON.parse(metadata.config), settingsOf(config));
    assert.equal(metadata.revision, String(TRAINING_REVISION));
    assert.deepEqual(JSON.parse(metadata.params), names);
    assert.deepEqual(tensors.map((t) => t.name), names);
    assert.match(metadata.recallLab, /^\d+\.\d+\.\d+/);
    assert.ok(
      !("V" in metadata) && tensors.every((t) => !/embed|^V$/.test(t.name)),
      "the fixed embedding is not saved",
    );
  });
});

Deno.test("a missing, truncated or mismatched checkpoint is refused in one line naming the file and the parameter", async () => {
  await withTempDir(async (dir) => {
    const config = resolve(tinyConfig("mamba"));
    const path = join(dir, "ok.safetensors");
    await saveInitial(config, path);
    const bytes = await Deno.readFile(path);

    const missing = join(dir, "none.safetensors");
    assert.equal(await rejection(loadModel(missing)), `${missing}: no such file`);

    const truncated = join(dir, "truncated.safetensors");
    await Deno.writeFile(truncated, bytes.subarray(0, bytes.length - 100));
    assert.match(await rejection(loadModel(truncated)), new RegExp(`^${truncated}: not a valid safetensors file: `));

    const wrongShape = join(dir, "shape.safetensors");
    await rewriteArray(path, wrongShape, "readout.w", [config.d, config.K + 1]);
    assert.equal(
      await rejection(loadModel(wrongShape)),
      `${wrongShape}: parameter "readout.w" has shape [8,17] in the file, the model expects [8,16]`,
    );

    const otherModel = join(dir, "other.safetensors");
    const file = decodeSafetensors(bytes);
    const ropeConfig = JSON.stringify(resolve({ ...tinyConfig("tf-rope") }));
    await Deno.writeFile(otherModel, encodeSafetensors(file.tensors, { ...file.metadata, config: ropeConfig }));
    assert.match(
      await rejection(loadModel(otherModel)),
      /other\.safetensors: parameter "layer0\.mamba\.\S+" is not in/,
    );

    const badConfig = join(dir, "config.safetensors");
    const bad = JSON.stringify({ ...config, tau: 99 });
    await Deno.writeFile(badConfig, encodeSafetensors(file.tensors, { ...file.metadata, config: bad }));
    assert.match(await rejection(loadModel(badConfig)), /config\.safetensors: the stored config is not valid: --tau/);
  });
});

// The learned position table has a row for every length evaluated (16L = 1024 at L = 64): 32 KB at d = 8 and 256 KB
// at d = 64 of rows beyond L that are stored although never trained.
Deno.test("checkpoints at d=64 stay under 450 KB per run (learned positions are the largest) and at d=8 under 40 KB", async () => {
  await withTempDir(async (dir) => {
    for (const d of [8, 64]) {
      for (const name of MODEL_NAMES) {
        const config = resolve({ model: name, K: 16, d, M: 1, L: 64, tau: 1, seed: 0 });
        const path = join(dir, `${name}-${d}.safetensors`);
        const { paramCount } = await saveInitial(config, path);
        const size = (await Deno.stat(path)).size;
        assert.ok(size >= 4 * paramCount && size < (d === 64 ? 450_000 : 40_000), `${name} d=${d}: ${size} B`);
      }
    }
  });
});

const HAS_NUMPY = (await new Deno.Command("/usr/bin/python3", { args: ["-c", "import numpy"], stderr: "null" })
  .output().catch(() => ({ success: false }))).success;

Deno.test({
  name: "Python with numpy alone reads every saved array with the same shape and values",
  ignore: !HAS_NUMPY,
  fn: async () => {
    await withTempDir(async (dir) => {
      const model = buildModel(resolve(tinyConfig("tf-learned")), substream(0, "init"));
      const path = join(dir, "py.safetensors");
      await saveCheckpoint(model, path, { key: "k" });
      const script = [
        "import json, struct, sys, numpy as np",
        "b = open(sys.argv[1], 'rb').read()",
        "n = struct.unpack('<Q', b[:8])[0]",
        "h = json.loads(b[8:8 + n].decode('utf-8'))",
        "meta = h.pop('__metadata__')",
        "out = {k: {'shape': list(np.frombuffer(b[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]],",
        "  dtype='<f4').reshape(v['shape']).shape), 'values': np.frombuffer(b[8 + n + v['data_offsets'][0]:",
        "  8 + n + v['data_offsets'][1]], dtype='<f4').tolist()} for k, v in h.items()}",
        "print(json.dumps({'meta': meta, 'tensors': out}))",
      ].join("\n");
      const r = await new Deno.Command("/usr/bin/python3", { args: ["-c", script, path], stdout: "piped" }).output();
      assert.ok(r.success);
      const py = JSON.parse(new TextDecoder().decode(r.stdout));
      assert.equal(py.meta.key, "k");
      for (const { name, variable } of model.params) {
        assert.deepEqual(py.tensors[name].shape, variable.shape, name);
        assert.deepEqual(py.tensors[name].values, Array.from(variable.dataSync()), name);
      }
      model.dispose();
    });
  },
});
if (!HAS_NUMPY) console.error("checkpoint_test: /usr/bin/python3 with numpy not found, skipping the numpy reader test");

async function runCli(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "lib/cli/run.ts"), ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task run --save writes a checkpoint that --load evaluates to the run's accuracies", async () => {
  await withTempDir(async (dir) => {
    const train = await runCli(
      ["--model", "tf-rope", "--L", "16", "--steps", "20", "--check-every", "10", "--eval-samples", "16"].concat(
        ["--save", "w.safetensors", "--out", "run.json"],
      ),
      dir,
    );
    assert.equal(train.code, 0, train.stderr);
    const trained = train.stderr.match(/accuracy at L .*?3L [\d.]+%/)?.[0];
    assert.ok(trained, train.stderr);
    const load = await runCli(["--load", "w.safetensors", "--out", "acc.json"], dir);
    assert.equal(load.code, 0, load.stderr);
    assert.ok(load.stderr.includes(trained), load.stderr);
    const run = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
    const acc = JSON.parse(await Deno.readTextFile(join(dir, "acc.json")));
    assert.equal(acc.key, run.key);
    assert.deepEqual(acc.accuracyByLength, run.accuracyByLength);
  });
});

Deno.test("deno task run --load with a training flag, a missing or a malformed file exits 2 with one line", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "bad.safetensors"), "not a checkpoint at all");
    const cases: [string[], string][] = [
      [["--load", "x.safetensors", "--steps", "5"], "error: --load cannot be combined with --steps"],
      [["--load", "x.safetensors", "--model", "mamba"], "error: --load cannot be combined with --model"],
      [["--load", "x.safetensors"], "error: x.safetensors: no such file"],
      [["--load", "bad.safetensors"], "error: bad.safetensors: not a valid safetensors file"],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, dir);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].startsWith(message), lines[0]);
    }
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["bad.safetensors"], "nothing written");
  });
});
