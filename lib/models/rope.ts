/**
 * Rotary position embedding (RoPE): cached cos/sin tables, the in-place rotation the fast attention kernel uses,
 * the same rotation as tf ops for the reference, and a one-pair score helper for tests.
 *
 * Pairing: the interleaved form of the RoFormer paper (also GPT-J and Meta's original LLaMA code): inside one
 * head, features (2i, 2i+1) form pair i < k/2 and are rotated at absolute position p (0-based) by the angle
 * p * base^(-2i/k), base 10000:
 *   x'[2i]   = x[2i] cos - x[2i+1] sin
 *   x'[2i+1] = x[2i] sin + x[2i+1] cos
 * (GPT-NeoX and Hugging Face LLaMA pair feature i with i + k/2 instead: same family, different pairing.)
 *
 * Glossary: b batch, h heads, l length, k head dim (even), p position, i pair index (< k/2).
 */
import * as tf from "@tensorflow/tfjs";

/** The base of the RoPE frequencies: pair i turns by base^(-2i/k) radians per position. */
export const ROPE_BASE = 10000;

/** cos and sin of every (pair, position) angle, pair-major: entry [i * length + p]. */
export interface RopeTable {
  readonly k: number;
  readonly length: number;
  readonly cos: Float64Array; // [k/2, length]
  readonly sin: Float64Array; // [k/2, length]
}

const tables = new Map<number, RopeTable>();

/** Throw a clear Error unless k is a positive even head dim. */
export function checkRopeHeadDim(k: number): void {
  if (!Number.isInteger(k) || k <= 0 || k % 2 !== 0) {
    throw new Error(
      `RoPE needs an even head dim k = d / heads, got k=${k}`,
    );
  }
}

function buildTable(k: number, length: number): RopeTable {
  const half = k / 2;
  const cos = new Float64Array(half * length);
  const sin = new Float64Array(half * length);
  for (let i = 0; i < half; i++) {
    const frequency = Math.pow(ROPE_BASE, (-2 * i) / k);
    for (let p = 0; p < length; p++) {
      cos[i * length + p] = Math.cos(p * frequency);
      sin[i * length + p] = Math.sin(p * frequency);
    }
  }
  return { k, length, cos, sin };
}

/**
 * The table for head dim k covering at least positions 0..l-1. Cached per k; a longer request rebuilds it at
 * least twice as long, so evaluating lengths 1..3L in turn rebuilds only a few times.
 */
export function ropeTable(l: number, k: number): RopeTable {
  checkRopeHeadDim(k);
  const cached = tables.get(k);
  if (cached && cached.length >= l) return cached;
  const length = Math.max(l, 64, cached ? 2 * cached.length : 0);
  const table = buildTable(k, length);
  tables.set(k, table);
  return table;
}

/**
 * Rotate one head block in place. The block is feature-major, [k, l]: feature j of position p sits at
 * data[offset + j * l + p]. sign = 1 applies RoPE; sign = -1 applies its inverse (= its transpose), which is
 * what the backward pass needs.
 */
export function ropeRotate(
  data: Float64Array,
  offset: number,
  l: number,
  k: number,
  table: RopeTable,
  sign: 1 | -1,
): void {
  const half = k / 2;
  const { cos, sin, length } = table;
  for (let i = 0; i < half; i++) {
    const even = offset + 2 * i * l;
    const odd = even + l;
    const angle = i * length;
    for (let p = 0; p < l; p++) {
      const c = cos[angle + p];
      const s = sign * sin[angle + p];
      const x0 = data[even + p];
      const x1 = data[odd + p];
      data[even + p] = x0 * c - x1 * s;
      data[odd + p] = x0 * s + x1 * c;
    }
  }
}

function rotatedAt(x: Float32Array, k: number, p: number): Float64Array {
  const l = p + 1;
  const block = new Float64Array(k * l); // [k, l], x at column p
  for (let j = 0; j < k; j++) block[j * l + p] = x[j];
  ropeRotate(block, 0, l, k, ropeTable(l, k), 1);
  const out = new Float64Array(k); // [k]
  for (let j = 0; j < k; j++) out[j] = block[j * l + p];
  return out;
}

/**
 * The unscaled attention score of one query vector q at position posQ against one key vector kk at position
 * posK, both of head dim k, after RoPE (through `ropeRotate`, the kernel's own rotation). With RoPE it depends
 * on posQ - posK only.
 */
export function ropeScores(
  q: Float32Array,
  kk: Float32Array,
  k: number,
  posQ: number,
  posK: number,
): number {
  const qr = rotatedAt(q, k, posQ);
  const kr = rotatedAt(kk, k, posK);
  let score = 0;
  for (let j = 0; j < k; j++) score += qr[j] * kr[j];
  return score;
}

/** RoPE as plain tf ops on x [b, h, l, k] (positions 0..l-1), differentiable by tf autodiff. */
export function ropeReference(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, l, k] = x.shape;
  const half = k / 2;
  const table = ropeTable(l, k);
  const cosValues = new Float32Array(l * half); // [l, k/2]
  const sinValues = new Float32Array(l * half);
  for (let p = 0; p < l; p++) {
    for (let i = 0; i < half; i++) {
      cosValues[p * half + i] = table.cos[i * table.length + p];
      sinValues[p * half + i] = table.sin[i * table.length + p];
    }
  }
  return tf.tidy(() => {
    const cos = tf.tensor3d(cosValues, [l, half, 1]); // [l, k/2, 1]
    const sin = tf.tensor3d(sinValues, [l, half, 1]); // [l, k/2, 1]
    const pairs = tf.reshape(x, [b, h, l, half, 2]); // [b, h, l, k/2, 2]
    const [x0, x1] = tf.split(pairs, 2, 4); // [b, h, l, k/2, 1] each
    const r0 = tf.sub(tf.mul(x0, cos), tf.mul(x1, sin));
    const r1 = tf.add(tf.mul(x0, sin), tf.mul(x1, cos));
    return tf.reshape(tf.concat([r0, r1], 4), [b, h, l, k]); // [b, h, l, k]
  });
}
