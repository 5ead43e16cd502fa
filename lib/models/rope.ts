/**
 * Rotary position embedding (RoPE): cached cos/sin tables (also laid out for the attention kernels, which
 * rotate in WebAssembly: attention_kernels.ts), the rotation as tf ops for the reference, and a one-pair score
 * helper for tests.
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
 * cos and sin tables for the attention kernels' quad layout (see attention_kernels.ts): [quads, k/2, 4], entry
 * ((tq * k/2) + i) * 4 + r is the angle of pair i at position 4 tq + r, as float32.
 */
export function ropeQuadTables(quads: number, k: number): { cos: Float32Array; sin: Float32Array } {
  const half = k / 2;
  const { cos, sin, length } = ropeTable(4 * quads, k);
  const outCos = new Float32Array(quads * half * 4); // [quads, k/2, 4]
  const outSin = new Float32Array(quads * half * 4);
  for (let tq = 0; tq < quads; tq++) {
    for (let i = 0; i < half; i++) {
      for (let r = 0; r < 4; r++) {
        outCos[(tq * half + i) * 4 + r] = cos[i * length + 4 * tq + r];
        outSin[(tq * half + i) * 4 + r] = sin[i * length + 4 * tq + r];
      }
    }
  }
  return { cos: outCos, sin: outSin };
}

/** One head vector x [k] rotated to position p (the rotation in the header, in float64). */
function rotatedAt(x: Float32Array, k: number, p: number): Float64Array {
  const { cos, sin, length } = ropeTable(p + 1, k);
  const out = new Float64Array(k); // [k]
  for (let i = 0; i < k / 2; i++) {
    const c = cos[i * length + p];
    const s = sin[i * length + p];
    out[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
    out[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
  }
  return out;
}

/**
 * The unscaled attention score of one query vector q at position posQ against one key vector kk at position
 * posK, both of head dim k, after RoPE (from the same table as the kernels and the reference). With RoPE it
 * depends on posQ - posK only.
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
