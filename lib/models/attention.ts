/**
 * Causal multi-head self-attention with optional RoPE, in two implementations with one signature:
 * - `causalAttentionReference`: plain tf ops differentiated by tf autodiff (obviously correct, slow on wasm);
 *   `attentionWithCache` is the same computation returning its intermediates (the pattern), for the probes;
 * - `causalAttention`: one `tf.customGrad` op whose forward and backward run the whole layer (projections,
 *   RoPE, causal softmax attention, output projection, all gradients) as WebAssembly SIMD kernels
 *   (attention_kernels.ts) over typed arrays: no batched matMul, no per-op dispatch, masked pairs never
 *   computed.
 *
 * Math (x @ W convention, no biases): q = x Wq, kk = x Wk, v = x Wv, split into h heads of size k = d / h;
 * with RoPE, q and kk are rotated per head (see rope.ts for the pairing); per head
 * attn = softmax(q kk^T / sqrt(k)) over positions s <= t; o = attn v; heads merged; out = o Wo.
 *
 * Fast-path data: x [b*l, d] is copied into the kernels' memory and packed into their "quad layout"
 * [b, l4/4, width, 4] (positions padded to l4, a multiple of 4; see attention_kernels.ts), where everything
 * else happens; the output comes back as [b*l, d]. The backward recomputes the projections and reads the
 * softmax weights a taped forward kept in a slot of kernel memory (b h l^2 / 2 floats, see `Saved`), so a
 * forward keeps O(b l d) floats in JS and that table in kernel memory. Why the projections run in wasm too (they were XNNPACK matMuls): at d = 8 the ~15 tf ops
 * around the core, the weight-gradient matMuls with an inner dim of b*l (~1 ms in the op), the packing and
 * the copies cost about as much as the attention itself; at d = 64 the layer takes about as long either way
 * (the wasm forward projection is faster than XNNPACK, the backward ones slower).
 *
 * Glossary: b batch, l length, d model dim, h heads, k head dim (d / h), t query position, s key position
 * (s <= t), l4 length rounded up to a multiple of 4.
 */
import * as tf from "@tensorflow/tfjs";
import { floats, recordingGradients, tensorOf } from "../kernels/tensor_io.ts";
import { copyOut, regionBytes, reserve, view } from "../kernels/assembler.ts";
import { type AttentionKernels, attentionKernels, attentionWeightFloats } from "../kernels/attention_kernels.ts";
import { droppedForwards, releaseSlot, type SlotHold, slotPool } from "../kernels/slot_pool.ts";
import { clocked } from "../kernels/kernel_clock.ts";
import { checkRopeHeadDim, ropeQuadTables, ropeReference } from "./rope.ts";

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

/**
 * The reference layer's intermediates, what `attentionWithCache` returns beside its output (TransformerLens's
 * hook_q, hook_k, hook_v, attn_scores, pattern and z): the probes read the pattern here.
 */
export interface AttentionCache {
  readonly queries: tf.Tensor4D; // [b, h, l, k] x Wq per head, rotated when RoPE is on
  readonly keys: tf.Tensor4D; // [b, h, l, k] x Wk per head, rotated when RoPE is on
  readonly values: tf.Tensor4D; // [b, h, l, k] x Wv per head
  readonly scores: tf.Tensor4D; // [b, h, l, l] q . k / sqrt(k), before the causal mask
  readonly pattern: tf.Tensor4D; // [b, h, l, l] softmax weights: row t over keys s <= t (0 where s > t)
  readonly z: tf.Tensor3D; // [b, l, d] every head's weighted values side by side, before Wo
}

/**
 * Causal self-attention from plain tf ops, its output [b, l, d] with every intermediate (the fast kernels never
 * materialise the pattern; the probes read it here). Call inside tf.tidy, or dispose the tensors.
 */
export function attentionWithCache(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): { out: tf.Tensor3D; cache: AttentionCache } {
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
    const scores = tf.mul(tf.matMul(q, kk, false, true), 1 / Math.sqrt(k)) as tf.Tensor4D; // [b, h, l, l]
    const future = tf.sub(1, tf.linalg.bandPart(tf.ones([l, l]), -1, 0)); // [l, l], 1 where s > t
    const masked = tf.add(scores, tf.mul(future, -1e9)); // [b, h, l, l]
    const pattern = tf.softmax(masked) as tf.Tensor4D; // [b, h, l, l]
    const o = tf.matMul(pattern, v); // [b, h, l, k]
    const merged = tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [b * l, d]); // [b*l, d]
    const out = tf.reshape(tf.matMul(merged, w.wo), [b, l, d]) as tf.Tensor3D; // [b, l, d]
    const z = tf.reshape(merged, [b, l, d]) as tf.Tensor3D; // [b, l, d]
    return { out, cache: { queries: q, keys: kk, values: v, scores, pattern, z } };
  });
}

/** Causal self-attention from plain tf ops; same values and signature as `causalAttention`. */
export function causalAttentionReference(
  x: tf.Tensor3D,
  w: AttentionWeights,
  opts: AttentionOptions,
): tf.Tensor3D {
  return tf.tidy(() => attentionWithCache(x, w, opts).out);
}

// ---------------------------------------------------------------------------------------------------------
// Fast path: the whole layer in WebAssembly (attention_kernels.ts); tensors only at its boundary.

/** The layer's weights as plain arrays, each [d, d] row-major. */
interface WeightValues {
  readonly wq: Float32Array;
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  readonly wo: Float32Array;
}

/** [Wq | Wk | Wv] [d, 3d] (with `transpose`: [3d, d]), the matrices the projection kernels take. */
function fusedQkv(w: WeightValues, d: number, transpose: boolean): Float32Array {
  const out = new Float32Array(3 * d * d);
  [w.wq, w.wk, w.wv].forEach((m, part) => {
    for (let i = 0; i < d; i++) {
      for (let c = 0; c < d; c++) {
        const fused = part * d + c; // column of [Wq | Wk | Wv]
        out[transpose ? fused * d + i : i * 3 * d + fused] = m[i * d + c];
      }
    }
  });
  return out;
}

/** The transpose of a [d, d] matrix. */
function transposed(m: Float32Array, d: number): Float32Array {
  const out = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let c = 0; c < d; c++) out[c * d + i] = m[i * d + c];
  }
  return out;
}

/** Columns [part d, (part + 1) d) of a [d, 3d] matrix, as [d, d]. */
function columnBlock(m: Float32Array, d: number, part: number): Float32Array {
  const out = new Float32Array(d * d);
  for (let i = 0; i < d; i++) out.set(m.subarray(i * 3 * d + part * d, i * 3 * d + (part + 1) * d), i * d);
  return out;
}

/**
 * Float counts of the forward's regions of kernel memory. "Quad" arrays are [b, l4/4, width, 4] (see
 * attention_kernels.ts), b l4 width floats.
 */
function forwardSizes(dims: Dims, l4: number) {
  const { b, l, d, h, k } = dims;
  const quad = b * l4 * d;
  return {
    rows: b * l * d, // [b*l, d] row-major staging: x in, then out
    x: quad,
    qkv: 3 * quad, // q | kk | v, rotated
    o: quad, // heads merged
    out: quad,
    stats: 2 * b * h * l4, // row max, then 1 / row sum, each [b, h, l4]
    cos: (l4 * k) / 2, // [l4/4, k/2, 4]
    sin: (l4 * k) / 2,
    scores: 4 * l4, // scratch: one query quad's scores
    wQkvT: 3 * d * d, // [Wq | Wk | Wv]^T [3d, d]
    woT: d * d,
  };
}

/** The backward's regions: the forward's first (same offsets for the same dims), then its own. */
function backwardSizes(dims: Dims, l4: number) {
  const { b, d, k } = dims;
  const quad = b * l4 * d;
  return {
    ...forwardSizes(dims, l4), // rows: dOut in, then dx
    dOut: quad,
    dO: quad,
    dQKV: 3 * quad,
    dx: quad,
    rowDot: l4, // scratch, one block
    acc: 4 * k * l4, // scratch, one block: dQ's four-lane partial sums [l4, k, 4]
    wQkv: 3 * d * d, // [Wq | Wk | Wv] [d, 3d]
    wo: d * d,
    dWQkv: 3 * d * d, // [d, 3d]
    dWo: d * d,
  };
}

/**
 * What a forward keeps for its backward: JS copies of x, o and the statistics (other calls reuse the kernels'
 * scratch memory in between), and a slot of kernel memory (lib/kernels/slot_pool.ts) holding the softmax weights
 * exp(score - max) of every visible pair, b h l4 (l4 + 4) / 2 floats (~2.2 MB per layer at b = l = 64, h = 4),
 * which the backward reads instead of recomputing scores and exponentials (the same bits: both kernels
 * compute a score with the same operations in the same order). At 4 heads of size 2 that recomputation was
 * ~0.8 ms of a ~3.5 ms two-layer step.
 */
interface Saved {
  readonly x: Float32Array; // quad layout [b, l4/4, d, 4]
  readonly o: Float32Array; // quad layout [b, l4/4, d, 4]
  readonly stats: Float32Array; // [2, b, h, l4]
  readonly w: WeightValues;
  readonly weights: SlotHold;
}

/** Write `src` into kernel memory at byte `offset`. */
function put(memory: WebAssembly.Memory, offset: number, src: Float32Array): void {
  view(memory, offset, src.length).set(src);
}

/** [q | kk | v] = x [Wq | Wk | Wv] into `at.qkv` (from x already packed at `at.x`), RoPE applied if on. */
function project(
  kernels: AttentionKernels,
  at: Record<"x" | "qkv" | "cos" | "sin" | "wQkvT", number>,
  dims: Dims,
  l4: number,
  rope: boolean,
): void {
  const { b, k } = dims;
  const quads = l4 / 4;
  kernels.projectQkv(at.x, at.wQkvT, at.qkv, b * quads);
  if (rope) {
    const tables = ropeQuadTables(quads, k);
    put(kernels.memory, at.cos, tables.cos);
    put(kernels.memory, at.sin, tables.sin);
    kernels.rope(at.qkv, at.cos, at.sin, b, quads);
  }
}

/**
 * The layer forward: x [b*l, d] -> out [b*l, d], returned as a view of kernel memory (valid until the next
 * call); with `keep`, also what the backward needs.
 */
function layerForward(
  x: Float32Array,
  w: WeightValues,
  dims: Dims,
  rope: boolean,
  keep: boolean,
): { out: Float32Array; saved?: Saved } {
  const { b, l, d, h } = dims;
  const l4 = Math.ceil(l / 4) * 4;
  const quads = l4 / 4;
  const kernels = attentionKernels(d, h);
  const { memory } = kernels;
  const pool = slotPool(memory);
  const weights = keep ? pool.take(regionBytes({ weights: attentionWeightFloats(b, h, quads) })) : undefined;
  const at = reserve(memory, forwardSizes(dims, l4), pool.scratch());
  put(memory, at.rows, x);
  kernels.pack(at.rows, at.x, b, l, quads);
  put(memory, at.wQkvT, fusedQkv(w, d, true));
  put(memory, at.woT, transposed(w.wo, d));
  project(kernels, at, dims, l4, rope);
  if (weights) kernels.forwardKeep(at.qkv, at.o, at.stats, at.scores, b, quads, weights.slot.offset);
  else kernels.forward(at.qkv, at.o, at.stats, at.scores, b, quads);
  kernels.projectOut(at.o, at.woT, at.out, b * quads);
  kernels.unpack(at.rows, at.out, b, l, quads);
  const out = view(memory, at.rows, b * l * d); // [b*l, d]
  if (!weights) return { out };
  const quad = b * l4 * d;
  const saved = {
    x: copyOut(memory, at.x, quad),
    o: copyOut(memory, at.o, quad),
    stats: copyOut(memory, at.stats, 2 * b * h * l4),
    w,
    weights,
  };
  return { out, saved };
}

/** Gradients of the layer, as views of kernel memory (valid until the next call). */
interface LayerGradients {
  readonly dx: Float32Array; // [b*l, d]
  readonly dWQkv: Float32Array; // [d, 3d]
  readonly dWo: Float32Array; // [d, d]
}

/** The layer backward: from dOut [b*l, d] (gradient of the output) to the gradients of x and the weights. */
function layerBackward(dOut: Float32Array, saved: Saved, dims: Dims, rope: boolean): LayerGradients {
  const { b, l, d, h } = dims;
  const l4 = Math.ceil(l / 4) * 4;
  const quads = l4 / 4;
  const count = b * quads;
  const kernels = attentionKernels(d, h);
  const { memory } = kernels;
  const pool = slotPool(memory);
  pool.check(saved.weights);
  const at = reserve(memory, backwardSizes(dims, l4), pool.scratch());
  put(memory, at.rows, dOut);
  kernels.pack(at.rows, at.dOut, b, l, quads);
  put(memory, at.x, saved.x);
  put(memory, at.o, saved.o);
  put(memory, at.stats, saved.stats);
  put(memory, at.wQkvT, fusedQkv(saved.w, d, true));
  put(memory, at.wQkv, fusedQkv(saved.w, d, false));
  put(memory, at.wo, saved.w.wo);
  project(kernels, at, dims, l4, rope); // recomputed: cheaper than saving and restoring 3 b l d floats
  kernels.projectOut(at.dOut, at.wo, at.dO, count); // dO = dOut Wo^T
  kernels.weightGradientOut(at.o, at.dOut, at.dWo, count); // o^T dOut
  kernels.backward(
    at.qkv,
    at.o,
    at.dO,
    at.stats,
    at.dQKV,
    at.rowDot,
    at.acc,
    b,
    quads,
    saved.weights.slot.offset,
  );
  releaseSlot(saved.weights);
  if (rope) kernels.ropeInverse(at.dQKV, at.cos, at.sin, b, quads);
  kernels.weightGradientQkv(at.x, at.dQKV, at.dWQkv, count); // x^T [dQ | dK | dV]
  kernels.projectQkvBack(at.dQKV, at.wQkv, at.dx, count); // [dQ | dK | dV] [Wq | Wk | Wv]^T
  kernels.unpack(at.rows, at.dx, b, l, quads);
  return {
    dx: view(memory, at.rows, b * l * d),
    dWQkv: view(memory, at.dWQkv, 3 * d * d),
    dWo: view(memory, at.dWo, d * d),
  };
}

/**
 * Causal self-attention (optional RoPE) as ONE tf.customGrad op: x [b, l, d] -> [b, l, d], with gradients for
 * x and all four weights; values and gradients match `causalAttentionReference`.
 *
 * The whole layer (projections, RoPE, causal softmax attention, output projection and all their gradients)
 * runs as WebAssembly SIMD kernels over the tensors' values: one read of x and the weights, one output
 * tensor; the backward reads dOut and makes the five gradient tensors. Under a gradient tape the forward
 * keeps ~2 b l d + 2 b h l floats (x, o, softmax row statistics) in the gradient closure and the softmax
 * weights (~b h l^2 / 2 floats) in a kernel-memory slot until its backward; without one, none.
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
      const weights = {
        wq: floats(wq, "causalAttention: wq").slice(),
        wk: floats(wk, "causalAttention: wk").slice(),
        wv: floats(wv, "causalAttention: wv").slice(),
        wo: floats(wo, "causalAttention: wo").slice(),
      };
      const { out, saved } = clocked(
        "forward",
        () => layerForward(floats(xIn, "causalAttention: xIn"), weights, dims, opts.rope, keep),
      );
      const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
        if (!saved) throw new Error("causalAttention: backward without a recorded forward");
        const g = clocked("backward", () => layerBackward(floats(dy, "causalAttention: dy"), saved, dims, opts.rope));
        return [
          tensorOf(g.dx, [b, l, d]), // [b, l, d]
          ...[0, 1, 2].map((part) => tensorOf(columnBlock(g.dWQkv, d, part), [d, d])),
          tensorOf(g.dWo, [d, d]),
        ];
      };
      // a tape dropped before its backward frees the weights' slot when gradFunc is collected
      if (saved) droppedForwards.register(gradFunc, saved.weights);
      return { value: tensorOf(out, [b, l, d]), gradFunc }; // [b, l, d]
    }) as Parameters<typeof tf.customGrad>[0],
  );
  return op(x, w.wq, w.wk, w.wv, w.wo) as tf.Tensor3D;
}
