/**
 * Snapshots of a run in progress, so a run stopped part-way (a sweep interrupted, a session ended, a machine
 * rebooted) continues from where it was instead of from step 0, and ends exactly as it would have uninterrupted:
 * the same batches, the same updates, the same history, bit for bit (tests/train_snapshot_test.ts).
 *
 * A snapshot is taken at a held-out check and holds everything the loop carries from one step to the next: the
 * weights, Adam's step count and moments, the training stream's state (the test batch is drawn again from its
 * own stream), the step, the current cap, the count of passing checks, the history and the step times so far.
 * On disk it is one safetensors file (`<key>.partial.safetensors` beside the run file, written atomically): the
 * weights as `param/<name>`, the moments as `adam.m/<name>` and `adam.v/<name>`, the step times as `step_ms`, and
 * in `__metadata__` the run key, the training revision and the rest as JSON (`state`).
 */
import { decodeSafetensors, encodeSafetensors, type NamedArray } from "./safetensors.ts";
import type { AdamState } from "./adam.ts";
import type { StreamState } from "../task/random.ts";
import type { HistoryPoint } from "./record.ts";
import { TRAINING_REVISION } from "./revision.ts";
import { writeBytesAtomic } from "../platform/atomic_write.ts";

/** Seconds between snapshots of a sweep's run in progress (a snapshot costs milliseconds; a minute is the most lost). */
export const SNAPSHOT_SECONDS = 60;

/** Where the snapshot of the run whose run file is `file` (`<key>.json`) lives. */
export function snapshotPath(file: string): string {
  return file.replace(/\.json$/, "") + ".partial.safetensors";
}

/** The training loop's state at a check (lib/training/train.ts). */
export interface TrainSnapshot {
  readonly step: number;
  readonly cap: number;
  readonly passing: number;
  readonly history: readonly HistoryPoint[];
  readonly stepMs: readonly number[];
  /** Seconds of training before this snapshot (summed over every process that trained the run). */
  readonly seconds: number;
  /** The parameters, in `model.params` order. */
  readonly weights: readonly NamedArray[];
  readonly adam: AdamState;
  readonly train: StreamState;
  /** When the run was first started (ISO), kept across resumes; set by the experiment, not the loop. */
  readonly startedAt?: string;
}

interface SnapshotJson {
  readonly step: number;
  readonly cap: number;
  readonly passing: number;
  readonly history: readonly HistoryPoint[];
  readonly seconds: number;
  readonly adamT: number;
  readonly train: StreamState;
  readonly params: readonly string[];
  readonly startedAt?: string;
}

/** Encode a snapshot of run `key` as safetensors bytes. */
export function encodeSnapshot(key: string, s: TrainSnapshot): Uint8Array {
  const arrays: NamedArray[] = [
    ...s.weights.map((w) => ({ ...w, name: `param/${w.name}` })),
    ...s.weights.map((w, i) => ({ name: `adam.m/${w.name}`, shape: w.shape, data: s.adam.m[i] })),
    ...s.weights.map((w, i) => ({ name: `adam.v/${w.name}`, shape: w.shape, data: s.adam.v[i] })),
    { name: "step_ms", shape: [s.stepMs.length], data: Float32Array.from(s.stepMs) },
  ];
  const state: SnapshotJson = {
    step: s.step,
    cap: s.cap,
    passing: s.passing,
    history: s.history,
    seconds: s.seconds,
    adamT: s.adam.t,
    train: s.train,
    params: s.weights.map((w) => w.name),
    ...(s.startedAt === undefined ? {} : { startedAt: s.startedAt }),
  };
  return encodeSafetensors(arrays, { key, revision: String(TRAINING_REVISION), state: JSON.stringify(state) });
}

/**
 * Decode snapshot bytes; null with the reason when they are not a snapshot of run `key` at this training revision
 * (a snapshot of another run, of older code, or a damaged file is not resumed from).
 */
export function decodeSnapshot(key: string, bytes: Uint8Array): TrainSnapshot | { readonly unusable: string } {
  let file;
  try {
    file = decodeSafetensors(bytes);
  } catch (e) {
    return { unusable: `not a valid file (${(e as Error).message})` };
  }
  const { metadata } = file;
  if (metadata.key !== key) return { unusable: `it is of run ${metadata.key}, not ${key}` };
  if (metadata.revision !== String(TRAINING_REVISION)) {
    return { unusable: `it is of training revision ${metadata.revision}, not ${TRAINING_REVISION}` };
  }
  let state: SnapshotJson;
  try {
    state = JSON.parse(metadata.state ?? "");
  } catch {
    return { unusable: "its state is not JSON" };
  }
  const byName = new Map(file.tensors.map((t) => [t.name, t]));
  const get = (name: string): NamedArray | undefined => byName.get(name);
  const names = Array.isArray(state.params) ? state.params : [];
  const missing = names.flatMap((n) => [`param/${n}`, `adam.m/${n}`, `adam.v/${n}`]).concat("step_ms")
    .find((n) => !get(n));
  if (names.length === 0 || missing !== undefined) return { unusable: `it has no ${missing ?? "parameters"}` };
  const misfit = names.find((n) =>
    get(`adam.m/${n}`)!.data.length !== get(`param/${n}`)!.data.length ||
    get(`adam.v/${n}`)!.data.length !== get(`param/${n}`)!.data.length
  );
  if (misfit !== undefined) return { unusable: `its Adam moments of ${misfit} do not fit the parameter` };
  const counts = [state.step, state.cap, state.passing, state.adamT];
  if (!counts.every((n) => Number.isInteger(n) && n >= 0) || !Array.isArray(state.history)) {
    return { unusable: "its step counts or history are not valid" };
  }
  return {
    step: state.step,
    cap: state.cap,
    passing: state.passing,
    history: state.history,
    stepMs: [...get("step_ms")!.data],
    seconds: state.seconds,
    weights: names.map((n) => ({ ...get(`param/${n}`)!, name: n })),
    adam: {
      t: state.adamT,
      m: names.map((n) => get(`adam.m/${n}`)!.data),
      v: names.map((n) => get(`adam.v/${n}`)!.data),
    },
    train: state.train,
    ...(typeof state.startedAt === "string" ? { startedAt: state.startedAt } : {}),
  };
}

/** Write a snapshot of run `key` to `path`, atomically. */
export async function saveSnapshot(path: string, key: string, s: TrainSnapshot): Promise<void> {
  await writeBytesAtomic(path, encodeSnapshot(key, s));
}

/** The snapshot of run `key` at `path`: null when there is none, `{ unusable }` when there is one not to use. */
export async function readSnapshot(
  path: string,
  key: string,
): Promise<TrainSnapshot | { readonly unusable: string } | null> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    return { unusable: `cannot be read (${(e as Error).message.split("\n")[0]})` };
  }
  return decodeSnapshot(key, bytes);
}

/** Remove the snapshot at `path`, if any. */
export async function removeSnapshot(path: string): Promise<void> {
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}
