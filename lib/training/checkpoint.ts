/**
 * Checkpoints: a model's trained weights as a safetensors file (lib/training/safetensors.ts), one F32 tensor per
 * parameter of `model.params` under its name, with the run key, the run settings (JSON), the training revision,
 * the parameter-name
 * order and the Recall Lab version in `__metadata__`. The fixed token embedding V is not a parameter and is not
 * saved (it is rebuilt from the config). Sweeps write `<key>.safetensors` beside each run file
 * (lib/store/run_worker.ts); `deno task run --load FILE` evaluates one.
 *
 * Loading rebuilds the model from the stored config with `buildModel` and assigns every variable from the file
 * after checking that names, shapes and dtypes match exactly. `assignWeights` is the piece a continued training
 * run would reuse on a freshly built model.
 */
import * as tf from "@tensorflow/tfjs";
import { type ExperimentConfig, resolve, type ResolvedConfig, type RunModel, settingsOf } from "./config.ts";
import { TRAINING_REVISION } from "./revision.ts";
import { buildModel } from "../models/model.ts";
import { substream } from "../task/random.ts";
import { initBackend } from "../platform/backend.ts";
import { writeBytesAtomic } from "../platform/atomic_write.ts";
import { RECALL_LAB_VERSION } from "../platform/version.ts";
import { decodeSafetensors, encodeSafetensors, type NamedArray, SafetensorsError } from "./safetensors.ts";
import { modelWeights } from "./weight_arrays.ts";

/** A checkpoint that cannot be read or does not fit the model; the message is one line naming the file. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

export interface CheckpointMeta {
  /** The run key (lib/training/experiment.ts `runKey`). */
  readonly key: string;
}

/** A decoded checkpoint: its config (validated by `resolve`) and the named arrays, in parameter order. */
export interface Checkpoint {
  readonly path: string;
  readonly key: string;
  readonly recallLab: string;
  readonly config: ResolvedConfig;
  readonly arrays: readonly NamedArray[];
}

/** SHA-256 (hex) over the float32 bytes of `arrays` in order: the checkpoint's content hash. */
export async function contentHash(arrays: readonly NamedArray[]): Promise<string> {
  const total = arrays.reduce((n, a) => n + a.data.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const a of arrays) {
    all.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), at);
    at += a.data.byteLength;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Save the model's weights to `path` (safetensors), atomically, with their content hash. */
export async function saveCheckpoint(model: RunModel, path: string, meta: CheckpointMeta): Promise<void> {
  const weights = modelWeights(model);
  const bytes = encodeSafetensors(weights, {
    key: meta.key,
    config: JSON.stringify(settingsOf(model.config)),
    revision: String(TRAINING_REVISION),
    params: JSON.stringify(weights.map((w) => w.name)),
    recallLab: RECALL_LAB_VERSION,
    sha256: await contentHash(weights),
  });
  await writeBytesAtomic(path, bytes);
}

function parseJson(path: string, field: string, text: string | undefined): unknown {
  if (text === undefined) throw new CheckpointError(`${path}: __metadata__ has no "${field}"`);
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(`${path}: __metadata__.${field} is not JSON`);
  }
}

/**
 * Read and check a checkpoint file; throws CheckpointError (one line naming the file) if it is missing or bad: not
 * safetensors, a config that does not resolve, weights that do not match their content hash (damaged data under an
 * intact header; files saved before the hash existed have none to check), or, when `key` is given, a checkpoint of
 * another run (a file copied over another).
 */
export async function loadCheckpoint(path: string, key?: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message.split("\n")[0];
    throw new CheckpointError(`${path}: ${why}`);
  }
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`${path}: not a valid safetensors file: ${e.message}`);
    throw e;
  }
  const { metadata } = file;
  let config: ResolvedConfig;
  try {
    config = resolve(parseJson(path, "config", metadata.config) as ExperimentConfig);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: the stored config is not valid: ${(e as Error).message}`);
  }
  const order = parseJson(path, "params", metadata.params);
  if (!Array.isArray(order) || !order.every((n) => typeof n === "string")) {
    throw new CheckpointError(`${path}: __metadata__.params is not a list of names`);
  }
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  if (order.length !== byName.size || !order.every((n) => byName.has(n))) {
    throw new CheckpointError(`${path}: __metadata__.params does not list the file's tensors`);
  }
  const arrays = order.map((n) => byName.get(n)!);
  if (metadata.sha256 !== undefined && metadata.sha256 !== await contentHash(arrays)) {
    throw new CheckpointError(`${path}: the weights do not match their content hash (the file is damaged)`);
  }
  if (key !== undefined && metadata.key !== key) {
    throw new CheckpointError(`${path}: it is the checkpoint of run ${metadata.key ?? "(none)"}, not of ${key}`);
  }
  return { path, key: metadata.key ?? "", recallLab: metadata.recallLab ?? "", config, arrays };
}

/**
 * Assign every parameter of `model` from `arrays` (matched by name). Names, shapes and dtypes must match
 * exactly, every parameter present and no array left over; otherwise nothing is assigned and a
 * CheckpointError names `source` and the first mismatched parameter.
 */
export function assignWeights(model: RunModel, arrays: readonly NamedArray[], source: string): void {
  const byName = new Map(arrays.map((a) => [a.name, a]));
  const known = new Set(model.params.map((p) => p.name));
  const extra = arrays.find((a) => !known.has(a.name));
  if (extra) {
    throw new CheckpointError(`${source}: parameter "${extra.name}" is not in the ${model.config.model} model`);
  }
  for (const { name, variable } of model.params) {
    const a = byName.get(name);
    if (!a) throw new CheckpointError(`${source}: parameter "${name}" is missing`);
    if (variable.dtype !== "float32") {
      throw new CheckpointError(`${source}: parameter "${name}" is F32 in the file, ${variable.dtype} in the model`);
    }
    const same = a.shape.length === variable.shape.length && a.shape.every((n, i) => n === variable.shape[i]);
    if (!same) {
      throw new CheckpointError(
        `${source}: parameter "${name}" has shape [${a.shape}] in the file, the model expects [${variable.shape}]`,
      );
    }
  }
  for (const { name, variable } of model.params) {
    const a = byName.get(name)!;
    const t = tf.tensor(a.data, a.shape as number[], "float32");
    variable.assign(t);
    t.dispose();
  }
}

/** Build the model of a decoded checkpoint and assign its weights (the model is disposed if they do not fit). */
export function modelFromCheckpoint(ckpt: Checkpoint): RunModel {
  const model = buildModel(ckpt.config, substream(ckpt.config.seed, "init"));
  try {
    assignWeights(model, ckpt.arrays, ckpt.path);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/**
 * Rebuild the trained model saved at `path` (of run `key`, when given); throws CheckpointError naming the file if
 * it is missing, bad or another run's.
 */
export async function loadModel(path: string, key?: string): Promise<RunModel> {
  const ckpt = await loadCheckpoint(path, key);
  await initBackend();
  return modelFromCheckpoint(ckpt);
}
