/**
 * Causal multi-head self-attention with optional RoPE, in two implementations with one signature:
 * - `causalAttentionReference`: plain tf ops differentiated by tf autodiff (obviously correct, slow on wasm);
 * - `causalAttention`: one `tf.customGrad` op. Its four projections are plain 2D matMuls (XNNPACK's fast path);
 *   everything between them (head split, RoPE, causal softmax attention, head merge) is hand-written JS loops
 *   over typed arrays, forward and backward: no batched matMul, no per-op dispatch, masked pairs never computed.
 *
 * Math (x @ W convention, no biases): q = x Wq, kk = x Wk, v = x Wv, split into h heads of size k = d / h;
 * with RoPE, q and kk are rotated per head (see rope.ts for the pairing); per head
 * attn = softmax(q kk^T / sqrt(k)) over positions s <= t; o = attn v; heads merged; out = o Wo.
 *
 * Fast-path layout: per-position quantities are kept feature-major per sequence, [b, d, l] = [b, h, k, l], so
 * each head is a contiguous [k, l] block and every inner loop runs over key positions with stride 1. Softmax
 * weights of row t are kept only for s <= t (triangular, l(l+1)/2 per head).
 *
 * Glossary: b batch, l length, d model dim, h heads, k head dim (d / h), t query position, s key position
 * (s <= t), c / i feature index in [0, d).
 */
import * as tf from "@tensorflow/tfjs";
import { checkRopeHeadDim, ropeReference, ropeRotate, ropeTable } from "./rope.ts";

/** The four projections of one attention layer, each [d, d], applied as x @ W. */
export interface AttentionWeights {
  readonly wq: tf.Tensor2D;
  readonly wk: tf.Tensor2D;
  readonly wv: tf.Tensor2D;
  readonly wo: tf.Tensor2D;
}

/** Number of heads (must divide d) and whether queries and keys are rotated by RoPE. */
export interface AttentionOptions {
  readonly heads: number;
  readonly rope: boolean;
}

interface Dims {
  readonly b: number;
  readonly l: number;
  readonly d: number;
  readonly h: number;
  readonly k: number;
}

function attentionDims(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): Dims {
  const [b, l, d] = x.shape;
  const h = opts.heads;
  if (!Number.isInteger(h) || h <= 0 || d % h !== 0) {
    throw new Error(`attention heads must divide d=${d}, got heads=${h}`);
  }
  for (const [name, m] of Object.entries(w) as [string, tf.Tensor2D][]) {
    if (m.shape.length !== 2 || m.shape[0] !== d || m.shape[1] !== d) {
      throw new Error(
        `attention weight ${name} must be [${d}, ${d}], got [${m.shape}]`,
      );
    }
  }
  const k = d / h;
  if (opts.rope) checkRopeHeadDim(k);
  return { b, l, d, h, k };
}

// ---------------------------------------------------------------------------------------------------------
// Reference: tf ops and tf autodiff.

/** Causal self-attention from plain tf ops; same values and signature as `causalAttention`. */
export function causalAttentionReference(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): tf.Tensor3D {
  const { b, l, d, h, k } = attentionDims(x, w, opts);
  return tf.tidy(() => {
    const x2 = tf.reshape(x, [b * l, d]); // [b*l, d]
    const heads = (wm: tf.Tensor2D): tf.Tensor4D =>
      tf.transpose(tf.reshape(tf.matMul(x2, wm), [b, l, h, k]), [0, 2, 1, 3]); // [b, h, l, k]
    let q = heads(w.wq);
    let kk = heads(w.wk);
    const v = heads(w.wv);
    if (opts.rope) {
      q = ropeReference(q);
      kk = ropeReference(kk);
    }
    const scores = tf.mul(tf.matMul(q, kk, false, true), 1 / Math.sqrt(k)); // [b, h, l, l]
    const future = tf.sub(1, tf.linalg.bandPart(tf.ones([l, l]), -1, 0)); // [l, l], 1 where s > t
    const masked = tf.add(scores, tf.mul(future, -1e9)); // [b, h, l, l]
    const attn = tf.softmax(masked); // [b, h, l, l]
    const o = tf.matMul(attn, v); // [b, h, l, k]
    const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b * l, d]); // [b*l, d]
    return tf.reshape(tf.matMul(merged, w.wo), [b, l, d]); // [b, l, d]
  });
}

// ---------------------------------------------------------------------------------------------------------
// Fast path: building blocks over typed arrays.
//
// V8 note: each hot loop nest lives in a small kernel that takes only typed arrays and numbers and is called
// once per sequence or per head block. Big do-everything functions with nested loops run in on-stack-replaced
// code that deoptimises on every inner-loop exit; small kernels get fully optimised after a few calls.

/** 2^(1023 - m) for m = 0..2046: the integer part of `expNonPositive`, all normal float64 numbers. */
const POW2 = Float64Array.from({ length: 2047 }, (_, m) => Math.pow(2, 1023 - m));

/**
 * exp(x) for x <= 0 (the max-shifted softmax scores), max relative error 1.7e-7 (about one float32 ulp).
 * exp(x) = 2^y, y = x log2(e), clamped to y >= -1022 (exp(-708) is 0 in float32 anyway); y = r - m with
 * m = round(-y), |r| <= 1/2, so 2^y = 2^-m e^g with |g| = |r ln 2| <= 0.347, e^g by its Taylor series to degree 6
 * (truncation error <= e^0.347 0.347^7 / 7! ~ 1.7e-7). About twice as fast as Math.exp in V8.
 */
export function expNonPositive(x: number): number {
  let y = x * Math.LOG2E;
  if (y < -1022) y = -1022;
  const m = (1023.5 - y) | 0; // 1023 + round(-y)
  const g = (y + m - 1023) * Math.LN2;
  return POW2[m] * (1 + g * (1 + g * (1 / 2 + g * (1 / 6 + g * (1 / 24 + g * (1 / 120 + g * (1 / 720)))))));
}

/** Reusable work buffers, grown on demand and never shrunk (the hot path allocates nothing). */
const float64Scratch = new Map<string, Float64Array>();
const float32Scratch = new Map<string, Float32Array>();

function scratch64(name: string, size: number): Float64Array {
  let buffer = float64Scratch.get(name);
  if (!buffer || buffer.length < size) {
    buffer = new Float64Array(size);
    float64Scratch.set(name, buffer);
  }
  return buffer;
}

function scratch32(name: string, size: number): Float32Array {
  let buffer = float32Scratch.get(name);
  if (!buffer || buffer.length < size) {
    buffer = new Float32Array(size);
    float32Scratch.set(name, buffer);
  }
  return buffer;
}

/**
 * Split the fused projection [b*l, 3d] (row-major: q | kk | v per row) into feature-major q, kk, v [b, d, l]
 * = [b, h, k, l]: head hh of sequence bi is the [k, l] block at (bi * h + hh) * k * l.
 */
function splitProjection(
  qkv: Float32Array,
  q: Float64Array,
  kk: Float64Array,
  v: Float64Array,
  b: number,
  l: number,
  d: number,
): void {
  const width = 3 * d;
  for (let bi = 0; bi < b; bi++) {
    const base = bi * d * l;
    for (let t = 0; t < l; t++) {
      const row = (bi * l + t) * width;
      for (let c = 0; c < d; c++) {
        q[base + c * l + t] = qkv[row + c];
        kk[base + c * l + t] = qkv[row + d + c];
        v[base + c * l + t] = qkv[row + 2 * d + c];
      }
    }
  }
}

/** The inverse of `splitProjection` for gradients: dQ, dK, dV [b, d, l] -> a new float32 [b*l, 3d]. */
function joinProjection(
  dQ: Float64Array,
  dK: Float64Array,
  dV: Float64Array,
  b: number,
  l: number,
  d: number,
): Float32Array {
  const width = 3 * d;
  const out = new Float32Array(b * l * width); // [b*l, 3d]
  for (let bi = 0; bi < b; bi++) {
    const base = bi * d * l;
    for (let t = 0; t < l; t++) {
      const row = (bi * l + t) * width;
      for (let c = 0; c < d; c++) {
        out[row + c] = dQ[base + c * l + t];
        out[row + d + c] = dK[base + c * l + t];
        out[row + 2 * d + c] = dV[base + c * l + t];
      }
    }
  }
  return out;
}

/** [b*l, d] (row-major) -> [b, d, l]. */
function toFeatureMajor(src: Float32Array, dst: Float64Array, b: number, l: number, d: number): void {
  for (let bi = 0; bi < b; bi++) {
    const base = bi * l * d;
    for (let t = 0; t < l; t++) {
      const row = base + t * d;
      for (let c = 0; c < d; c++) dst[base + c * l + t] = src[row + c];
    }
  }
}

/** [b, d, l] -> a new float32 [b*l, d] (row-major), ready for a tensor. */
function toRowMajor(src: Float64Array, b: number, l: number, d: number): Float32Array {
  const dst = new Float32Array(b * l * d); // [b*l, d]
  for (let bi = 0; bi < b; bi++) {
    const base = bi * l * d;
    for (let c = 0; c < d; c++) {
      const col = base + c * l;
      for (let t = 0; t < l; t++) dst[base + t * d + c] = src[col + t];
    }
  }
  return dst;
}

/** Apply RoPE (sign 1) or its inverse (sign -1) to every head block of a [b, h, k, l] array. */
function rotateHeads(data: Float64Array, blocks: number, l: number, k: number, sign: 1 | -1): void {
  const table = ropeTable(l, k);
  for (let block = 0; block < blocks; block++) ropeRotate(data, block * k * l, l, k, table, sign);
}

/**
 * Attention forward of one head block: q, kk, v, o hold [k, l] at `base` (feature-major), so that
 * o[:, t] = sum_{s <= t} softmax_s(q[:, t] . kk[:, s] / sqrt(k)) v[:, s]; masked pairs s > t are never touched.
 * Row t's unnormalised weights exp(score - rowMax) go to weights[at + s] with at = wBase + t(t+1)/2, and
 * 1 / rowSum to inverseSums[sBase + t]. `row` is a float64 scratch of length >= l.
 */
function forwardBlock(
  q: Float64Array,
  kk: Float64Array,
  v: Float64Array,
  o: Float64Array,
  row: Float64Array,
  weights: Float32Array,
  inverseSums: Float64Array,
  base: number,
  wBase: number,
  sBase: number,
  l: number,
  k: number,
): void {
  const scale = 1 / Math.sqrt(k);
  for (let t = 0; t < l; t++) {
    const n = t + 1;
    let qj = q[base + t] * scale;
    for (let s = 0; s < n; s++) row[s] = qj * kk[base + s];
    for (let j = 1; j < k; j++) {
      qj = q[base + j * l + t] * scale;
      const kj = base + j * l;
      for (let s = 0; s < n; s++) row[s] += qj * kk[kj + s];
    }
    let max = row[0];
    for (let s = 1; s < n; s++) if (row[s] > max) max = row[s];
    const at = wBase + ((t * n) >> 1);
    let sum = 0;
    for (let s = 0; s < n; s++) {
      const e = expNonPositive(row[s] - max);
      row[s] = e;
      weights[at + s] = e;
      sum += e;
    }
    const inverseSum = 1 / sum;
    inverseSums[sBase + t] = inverseSum;
    for (let j = 0; j < k; j++) {
      const vj = base + j * l;
      let acc = 0;
      for (let s = 0; s < n; s++) acc += row[s] * v[vj + s];
      o[vj + t] = acc * inverseSum;
    }
  }
}

/**
 * Attention backward of one head block (same layout and saved weights as `forwardBlock`): from dO, add into
 * dQ, dK, dV (zeroed by the caller). With p the row's probabilities and dS the score gradient:
 * dV[s] += p[s] dO[t]; dS[s] = p[s] (dO[t] . v[s] - dO[t] . o[t]) / sqrt(k); dQ[t] = sum_s dS[s] kk[s];
 * dK[s] += dS[s] q[t]. `p` and `dS` are float64 scratch rows of length >= l.
 */
function backwardBlock(
  q: Float64Array,
  kk: Float64Array,
  v: Float64Array,
  o: Float64Array,
  weights: Float32Array,
  inverseSums: Float64Array,
  dO: Float64Array,
  dQ: Float64Array,
  dK: Float64Array,
  dV: Float64Array,
  p: Float64Array,
  dS: Float64Array,
  base: number,
  wBase: number,
  sBase: number,
  l: number,
  k: number,
): void {
  const scale = 1 / Math.sqrt(k);
  for (let t = 0; t < l; t++) {
    const n = t + 1;
    const at = wBase + ((t * n) >> 1);
    const inverseSum = inverseSums[sBase + t];
    let rowDot = 0; // dO[t] . o[t] = sum_s p[s] (dO[t] . v[s])
    for (let j = 0; j < k; j++) rowDot += dO[base + j * l + t] * o[base + j * l + t];
    let g = dO[base + t];
    for (let s = 0; s < n; s++) dS[s] = g * v[base + s];
    for (let j = 1; j < k; j++) {
      g = dO[base + j * l + t];
      const vj = base + j * l;
      for (let s = 0; s < n; s++) dS[s] += g * v[vj + s];
    }
    for (let s = 0; s < n; s++) {
      const ps = weights[at + s] * inverseSum;
      p[s] = ps;
      dS[s] = ps * (dS[s] - rowDot) * scale;
    }
    for (let j = 0; j < k; j++) {
      const kj = base + j * l;
      const gj = dO[kj + t];
      const qj = q[kj + t];
      let acc = 0;
      for (let s = 0; s < n; s++) {
        const ds = dS[s];
        dV[kj + s] += gj * p[s];
        dK[kj + s] += qj * ds;
        acc += ds * kk[kj + s];
      }
      dQ[kj + t] = acc;
    }
  }
}

/** What the forward keeps for the backward (JS arrays only; tensors go through tf's save mechanism). */
interface Saved {
  readonly q: Float64Array; // [b, h, k, l], after RoPE
  readonly kk: Float64Array; // [b, h, k, l], after RoPE
  readonly v: Float64Array; // [b, h, k, l]
  readonly o: Float64Array; // [b, h, k, l]
  readonly oRows: Float32Array; // [b*l, d], heads merged
  readonly weights: Float32Array; // [b*h, l(l+1)/2], unnormalised softmax weights
  readonly inverseSums: Float64Array; // [b*h, l]
}

/**
 * JS part of the forward: from the fused projection [b*l, 3d] to the merged head outputs [b*l, d] (before Wo).
 * With `keep` it allocates and returns what the backward needs; otherwise it works in scratch buffers.
 */
function attendAll(qkv: Float32Array, dims: Dims, rope: boolean, keep: boolean): Saved {
  const { b, l, d, h, k } = dims;
  const size = b * d * l;
  const triangle = (l * (l + 1)) / 2;
  const take = (name: string): Float64Array => keep ? new Float64Array(size) : scratch64(name, size);
  const q = take("q"); // [b, h, k, l]
  const kk = take("kk"); // [b, h, k, l]
  const v = take("v"); // [b, h, k, l]
  const o = take("o"); // [b, h, k, l]
  splitProjection(qkv, q, kk, v, b, l, d);
  if (rope) {
    rotateHeads(q, b * h, l, k, 1);
    rotateHeads(kk, b * h, l, k, 1);
  }
  // Without a tape, one block's softmax weights at a time suffice (evaluation: long sequences, big batches).
  const weights = keep ? new Float32Array(b * h * triangle) : scratch32("weights", triangle);
  const inverseSums = keep ? new Float64Array(b * h * l) : scratch64("inverseSums", l);
  const row = scratch64("row", l);
  for (let block = 0; block < b * h; block++) {
    const wBase = keep ? block * triangle : 0;
    const sBase = keep ? block * l : 0;
    forwardBlock(q, kk, v, o, row, weights, inverseSums, block * k * l, wBase, sBase, l, k);
  }
  const oRows = toRowMajor(o, b, l, d); // [b*l, d]
  return { q, kk, v, o, oRows, weights, inverseSums };
}

/** JS part of the backward: from dO [b*l, d] (gradient of the merged head outputs) to d(qkv) [b*l, 3d]. */
function attendAllBackward(dOValues: Float32Array, saved: Saved, dims: Dims, rope: boolean): Float32Array {
  const { b, l, d, h, k } = dims;
  const size = b * d * l;
  const triangle = (l * (l + 1)) / 2;
  const zeroed = (name: string): Float64Array => {
    const buffer = scratch64(name, size);
    buffer.fill(0, 0, size);
    return buffer;
  };
  const dO = scratch64("dO", size); // [b, h, k, l]
  toFeatureMajor(dOValues, dO, b, l, d);
  const dQ = zeroed("dQ"); // [b, h, k, l]
  const dK = zeroed("dK");
  const dV = zeroed("dV");
  const p = scratch64("p", l);
  const dS = scratch64("dS", l);
  const { q, kk, v, o, weights, inverseSums } = saved;
  for (let block = 0; block < b * h; block++) {
    const base = block * k * l;
    backwardBlock(q, kk, v, o, weights, inverseSums, dO, dQ, dK, dV, p, dS, base, block * triangle, block * l, l, k);
  }
  if (rope) {
    rotateHeads(dQ, b * h, l, k, -1);
    rotateHeads(dK, b * h, l, k, -1);
  }
  return joinProjection(dQ, dK, dV, b, l, d); // [b*l, 3d]
}

/** True when tf records a gradient tape at this call (then the op's backward may run). */
function recordingGradients(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * Causal self-attention (optional RoPE) as ONE tf.customGrad op: x [b, l, d] -> [b, l, d], with gradients for
 * x and all four weights; values and gradients match `causalAttentionReference`.
 *
 * The four projections are plain 2D matMuls (XNNPACK's fast path; gradients through explicit transposes);
 * everything between them (head split, RoPE, causal softmax attention, head merge) runs as JS loops over typed
 * arrays, forward and backward by hand. Its intermediates live as JS arrays in the gradient closure, and only
 * while a tape records.
 */
export function causalAttention(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): tf.Tensor3D {
  const dims = attentionDims(x, w, opts);
  const { b, l, d } = dims;
  const keep = recordingGradients();
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xIn, wq, wk, wv, wo] = args as tf.Tensor[];
      const save = args[5] as tf.GradSaveFunc;
      save([xIn, wq, wk, wv, wo]);
      const x2 = tf.reshape(xIn, [b * l, d]); // [b*l, d]
      const qkv = tf.matMul(x2, tf.concat([wq, wk, wv], 1)); // [b*l, 3d]
      const saved = attendAll(qkv.dataSync() as Float32Array, dims, opts.rope, keep);
      const merged = tf.tensor2d(saved.oRows, [b * l, d]); // [b*l, d]
      return {
        value: tf.reshape(tf.matMul(merged, wo), [b, l, d]), // [b, l, d]
        gradFunc: (dy: tf.Tensor, tensors: tf.Tensor[]): tf.Tensor[] => {
          if (!keep) throw new Error("causalAttention: backward without a recorded forward");
          const [xs, wqs, wks, wvs, wos] = tensors;
          const dy2 = tf.reshape(dy, [b * l, d]); // [b*l, d]
          const dWo = tf.matMul(tf.transpose(tf.tensor2d(saved.oRows, [b * l, d])), dy2); // [d, d]
          const dO = tf.matMul(dy2, tf.transpose(wos)); // [b*l, d]
          const dQkvValues = attendAllBackward(dO.dataSync() as Float32Array, saved, dims, opts.rope);
          const dQkv = tf.tensor2d(dQkvValues, [b * l, 3 * d]); // [b*l, 3d]
          const wQkvT = tf.transpose(tf.concat([wqs, wks, wvs], 1)); // [3d, d]
          const dx = tf.reshape(tf.matMul(dQkv, wQkvT), [b, l, d]); // [b, l, d]
          const xT = tf.transpose(tf.reshape(xs, [b * l, d])); // [d, b*l]
          const [dWq, dWk, dWv] = tf.split(tf.matMul(xT, dQkv), 3, 1); // [d, d] each
          return [dx, dWq, dWk, dWv, dWo];
        },
      };
    }) as Parameters<typeof tf.customGrad>[0],
  );
  return op(x, w.wq, w.wk, w.wv, w.wo) as tf.Tensor3D;
}
