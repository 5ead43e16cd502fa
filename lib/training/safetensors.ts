/**
 * The safetensors file layout (https://github.com/huggingface/safetensors), float32 only, on plain typed arrays:
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   UTF-8 JSON {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
 *             "__metadata__": {string: string}}, padded with spaces so the data starts at a multiple of 8
 *   the rest  the tensors' raw little-endian bytes, back to back; offsets count from the start of this part
 *
 * Pure: no tensors, no files. Decoding checks everything the spec requires (offsets contiguous, covering the
 * data exactly, each as long as its shape needs) and throws a `SafetensorsError` with a one-line reason.
 */

/** One named array: row-major float32 data and its shape. */
export interface NamedArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Safetensors {
  /** In the order of their data in the file. */
  readonly tensors: readonly NamedArray[];
  readonly metadata: Readonly<Record<string, string>>;
}

/** A malformed file or an array that cannot be encoded; the message is one line. */
export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const METADATA = "__metadata__";
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Swap float32 bytes in place between the host's byte order and little-endian (a no-op on little-endian hosts). */
function hostToLittleEndian(bytes: Uint8Array): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) { for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse(); }
  return bytes;
}

/** Encode `tensors` (in this order) and string `metadata` as one safetensors file. */
export function encodeSafetensors(
  tensors: readonly NamedArray[],
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA || t.name in header) throw new SafetensorsError(`tensor name "${t.name}" is not unique`);
    if (!t.shape.every((n) => Number.isInteger(n) && n >= 0) || elements(t.shape) !== t.data.length) {
      throw new SafetensorsError(`tensor "${t.name}": shape [${t.shape}] does not hold ${t.data.length} values`);
    }
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  header[METADATA] = metadata;
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n); // spaces
  let at = 8 + n;
  for (const t of tensors) {
    out.set(hostToLittleEndian(new Uint8Array(t.data.slice().buffer)), at);
    at += t.data.byteLength;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** Parse one header entry; throws naming the tensor. */
function entryOf(name: string, raw: unknown, dataLength: number): { name: string; shape: number[]; begin: number } {
  if (!isObject(raw)) throw new SafetensorsError(`tensor "${name}": header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (dtype !== "F32") throw new SafetensorsError(`tensor "${name}": dtype ${JSON.stringify(dtype)}, expected "F32"`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new SafetensorsError(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[1] > dataLength) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets ${JSON.stringify(offsets)} outside the ${dataLength} data bytes`,
    );
  }
  if (offsets[1] - offsets[0] !== 4 * elements(shape)) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets ${JSON.stringify(offsets)} do not hold shape [${shape}] of F32`,
    );
  }
  return { name, shape, begin: offsets[0] };
}

/** Decode a safetensors file of F32 tensors; throws SafetensorsError on anything malformed. */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8) throw new SafetensorsError(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`header length ${n} exceeds the file (${bytes.length} bytes): truncated?`);
  }
  const dataStart = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (e) {
    throw new SafetensorsError(`header is not UTF-8 JSON (${(e as Error).message.split("\n")[0]})`);
  }
  if (!isObject(header)) throw new SafetensorsError("header is not a JSON object");
  const rawMeta = header[METADATA] ?? {};
  if (!isObject(rawMeta) || !Object.values(rawMeta).every((v) => typeof v === "string")) {
    throw new SafetensorsError("__metadata__ is not an object of strings");
  }
  const dataLength = bytes.length - dataStart;
  const entries = Object.entries(header).filter(([k]) => k !== METADATA).map(([k, v]) => entryOf(k, v, dataLength))
    .sort((a, b) => a.begin - b.begin);
  let expected = 0;
  const tensors = entries.map(({ name, shape, begin }) => {
    if (begin !== expected) {
      throw new SafetensorsError(
        `tensor "${name}" starts at data byte ${begin}, expected ${expected} (not contiguous)`,
      );
    }
    const size = 4 * elements(shape);
    const raw = bytes.slice(dataStart + begin, dataStart + begin + size); // a copy, so the buffer is aligned
    expected = begin + size;
    return { name, shape, data: new Float32Array(hostToLittleEndian(raw).buffer) };
  });
  if (expected !== dataLength) {
    throw new SafetensorsError(`tensors cover ${expected} of ${dataLength} data bytes`);
  }
  return { tensors, metadata: rawMeta as Record<string, string> };
}
