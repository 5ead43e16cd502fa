/**
 * The core of a Mamba block (everything between in_proj and out_proj), in two implementations with one
 * signature:
 * - `mambaCoreReference`: plain tf ops with a sequential scan over t, differentiated by tf autodiff
 *   (obviously correct, slow); `mambaCoreWithCache` is the same computation returning every intermediate
 *   (`MambaCache`: conv output, delta, A, B, C, exp(delta A), the states h, the gate), which the probes read;
 * - `mambaCore`: one `tf.customGrad` op whose forward and backward run the WebAssembly SIMD kernels of
 *   mamba_kernels.ts over Float32Arrays (fast: one dispatch, no per-step tensors).
 *
 * Math (mamba-minimal conventions), from x_in and z [b, l, e]:
 *   xc[t, c] = convB[c] + sum_k convW[c, k] x_in[t - w + 1 + k, c]     causal depthwise conv, width w
 *   u = silu(xc)                                                       silu(x) = x sigmoid(x)
 *   [dtLow | B | C] = u @ xProj                                        widths r, n, n
 *   delta = softplus(dtLow @ dtProj + dtBias);  A = -exp(aLog)
 *   h[t, c, s] = exp(delta[t, c] A[c, s]) h[t - 1, c, s] + delta[t, c] B[t, s] u[t, c],  h[-1] = 0
 *   y[t, c] = sum_s h[t, c, s] C[t, s] + D[c] u[t, c]
 *   out = y silu(z)
 *
 * Glossary: b batch, l length, e inner dim (2d), n state dim, r dt rank, w conv width, m = b l rows,
 * R = r + 2n (x_proj width), t time, c channel, s state index.
 */
import * as tf from "@tensorflow/tfjs";
import { floats, tensorOf } from "../kernels/tensor_io.ts";
import { copyOut, regionBytes, reserve, view } from "../kernels/assembler.ts";
import { coreKernels } from "../kernels/mamba_kernels.ts";
import { clocked } from "../kernels/kernel_clock.ts";
import { droppedForwards as dropped, releaseSlot, type SlotHold, slotPool } from "../kernels/slot_pool.ts";

/** Weights of the core; all float32. */
export interface MambaCoreWeights {
  readonly convW: tf.Tensor2D; // [e, w]
  readonly convB: tf.Tensor1D; // [e]
  readonly xProj: tf.Tensor2D; // [e, r + 2n]
  readonly dtProj: tf.Tensor2D; // [r, e]
  readonly dtBias: tf.Tensor1D; // [e]
  readonly aLog: tf.Tensor2D; // [e, n]
  readonly D: tf.Tensor1D; // [e]
}

interface CoreDims {
  readonly b: number;
  readonly l: number;
  readonly e: number;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  readonly m: number;
  readonly R: number;
  /** R rounded up to a multiple of 4: row stride of xdbl in the kernels. */
  readonly P: number;
}

function coreDims(xIn: tf.Tensor3D, z: tf.Tensor3D, wt: MambaCoreWeights): CoreDims {
  const [b, l, e] = xIn.shape;
  const [n2, n] = wt.aLog.shape;
  const [r] = wt.dtProj.shape;
  const [, w] = wt.convW.shape;
  const R = r + 2 * n;
  const expect: [string, readonly number[], readonly number[]][] = [
    ["z", z.shape, [b, l, e]],
    ["convW", wt.convW.shape, [e, w]],
    ["convB", wt.convB.shape, [e]],
    ["xProj", wt.xProj.shape, [e, R]],
    ["dtProj", wt.dtProj.shape, [r, e]],
    ["dtBias", wt.dtBias.shape, [e]],
    ["aLog", wt.aLog.shape, [e, n]],
    ["D", wt.D.shape, [e]],
  ];
  if (n2 !== e) throw new Error(`mamba core: aLog must be [e=${e}, n], got [${wt.aLog.shape}]`);
  for (const [name, got, want] of expect) {
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) {
      throw new Error(`mamba core: ${name} must be [${want}], got [${got}]`);
    }
  }
  return { b, l, e, n, r, w, m: b * l, R, P: Math.ceil(R / 4) * 4 };
}

// ---------------------------------------------------------------------------------------------------------
// Reference: tf ops only (no conv1d, gather, cumsum or silu, whose wasm gradients are missing or broken).

function siluReference(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * Every intermediate of the reference core, what `mambaCoreWithCache` returns beside its output (mamba-minimal's
 * names; TransformerLens's run_with_cache in spirit): the probes read the step sizes and states here instead of
 * restating the math.
 */
export interface MambaCache {
  readonly xc: tf.Tensor3D; // [b, l, e] causal conv output, before the SiLU
  readonly u: tf.Tensor3D; // [b, l, e] silu(xc): what x_proj and the scan read
  readonly delta: tf.Tensor3D; // [b, l, e] step sizes softplus(dtLow dtProj + dtBias), or the forced ones
  readonly A: tf.Tensor2D; // [e, n] -exp(aLog)
  readonly B: tf.Tensor3D; // [b, l, n]
  readonly C: tf.Tensor3D; // [b, l, n]
  readonly aBar: tf.Tensor4D; // [b, l, e, n] exp(delta A): the share of h[t - 1] that step t keeps
  readonly bBarU: tf.Tensor4D; // [b, l, e, n] delta B u: what step t writes
  readonly h: tf.Tensor4D; // [b, l, e, n] the state after step t
  readonly y: tf.Tensor3D; // [b, l, e] sum_s h C + D u, before the gate
  readonly gate: tf.Tensor3D; // [b, l, e] silu(z)
}

/**
 * The reference core: its output and, with `keep`, its cache; `forced` [b, l, e] replaces the computed step sizes.
 * Call inside tf.tidy. Without `keep` it runs exactly the ops `mambaCoreReference` always ran (nothing stacked).
 */
function referenceCore(
  xIn: tf.Tensor3D,
  z: tf.Tensor3D,
  wt: MambaCoreWeights,
  keep: boolean,
  forced?: tf.Tensor3D,
): { out: tf.Tensor3D; cache?: MambaCache } {
  const { b, l, e, n, r, w } = coreDims(xIn, z, wt);
  if (forced && (forced.rank !== 3 || forced.shape.some((v, i) => v !== [b, l, e][i]))) {
    throw new Error(`mamba core: a forced delta must be [${[b, l, e]}], got [${forced.shape}]`);
  }
  // causal conv as a sum of shifted slices of the left-padded input
  const padded = tf.pad(xIn, [[0, 0], [w - 1, 0], [0, 0]]); // [b, l + w - 1, e]
  let xc: tf.Tensor = wt.convB;
  for (let k = 0; k < w; k++) {
    const tap = tf.reshape(tf.slice(wt.convW, [0, k], [e, 1]), [e]); // [e]
    xc = tf.add(xc, tf.mul(tf.slice(padded, [0, k, 0], [b, l, e]), tap)); // [b, l, e]
  }
  const u = siluReference(xc); // [b, l, e]
  const xdbl = tf.matMul(tf.reshape(u, [b * l, e]), wt.xProj); // [m, R]
  const bm = tf.reshape(tf.slice(xdbl, [0, r], [b * l, n]), [b, l, n]); // [b, l, n]
  const cm = tf.reshape(tf.slice(xdbl, [0, r + n], [b * l, n]), [b, l, n]); // [b, l, n]
  const delta = forced ?? tf.reshape(
    tf.softplus(tf.add(tf.matMul(tf.slice(xdbl, [0, 0], [b * l, r]), wt.dtProj), wt.dtBias)), // dtLow [m, r]
    [b, l, e],
  ); // [b, l, e]
  const a = tf.neg(tf.exp(wt.aLog)); // [e, n]
  let h: tf.Tensor = tf.zeros([b, e, n]);
  const ys: tf.Tensor[] = [], aBars: tf.Tensor[] = [], bBarUs: tf.Tensor[] = [], hs: tf.Tensor[] = [];
  for (let t = 0; t < l; t++) {
    const dt = tf.reshape(tf.slice(delta, [0, t, 0], [b, 1, e]), [b, e, 1]); // [b, e, 1]
    const ut = tf.reshape(tf.slice(u, [0, t, 0], [b, 1, e]), [b, e, 1]); // [b, e, 1]
    const bt = tf.slice(bm, [0, t, 0], [b, 1, n]); // [b, 1, n]
    const ct = tf.slice(cm, [0, t, 0], [b, 1, n]); // [b, 1, n]
    const aBar = tf.exp(tf.mul(dt, a)); // [b, e, n]
    const kept = tf.mul(aBar, h); // [b, e, n]
    const bBarU = tf.mul(tf.mul(dt, ut), bt); // [b, e, n]
    h = tf.add(kept, bBarU); // [b, e, n]
    ys.push(tf.sum(tf.mul(h, ct), -1)); // [b, e]
    if (keep) {
      aBars.push(aBar);
      bBarUs.push(bBarU);
      hs.push(h);
    }
  }
  const y = tf.add(tf.stack(ys, 1), tf.mul(u, wt.D)) as tf.Tensor3D; // [b, l, e]
  const gate = siluReference(z) as tf.Tensor3D; // [b, l, e]
  const out = tf.mul(y, gate) as tf.Tensor3D; // [b, l, e]
  if (!keep) return { out };
  return {
    out,
    cache: {
      xc: xc as tf.Tensor3D,
      u: u as tf.Tensor3D,
      delta: delta as tf.Tensor3D,
      A: a as tf.Tensor2D,
      B: bm as tf.Tensor3D,
      C: cm as tf.Tensor3D,
      aBar: tf.stack(aBars, 1) as tf.Tensor4D,
      bBarU: tf.stack(bBarUs, 1) as tf.Tensor4D,
      h: tf.stack(hs, 1) as tf.Tensor4D,
      y,
      gate,
    },
  };
}

/** The core from plain tf ops with a sequential scan over t; differentiable by tf autodiff. */
export function mambaCoreReference(xIn: tf.Tensor3D, z: tf.Tensor3D, wt: MambaCoreWeights): tf.Tensor3D {
  return tf.tidy(() => referenceCore(xIn, z, wt, false).out);
}

/**
 * The reference core's output [b, l, e] and every intermediate (`MambaCache`); `delta` [b, l, e], when given,
 * replaces the computed step sizes (to see what delta = 0 or a large delta does). Same output as
 * `mambaCoreReference`. Keeps b l e n floats per [b, l, e, n] entry: for probes and tests, not training. Call
 * inside tf.tidy (the cache may hold the forced delta, which belongs to the caller).
 */
export function mambaCoreWithCache(
  xIn: tf.Tensor3D,
  z: tf.Tensor3D,
  wt: MambaCoreWeights,
  opts: { readonly delta?: tf.Tensor3D } = {},
): { out: tf.Tensor3D; cache: MambaCache } {
  return tf.tidy(() => {
    const { out, cache } = referenceCore(xIn, z, wt, true, opts.delta);
    return { out, cache: { ...cache! } };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Fast path: forward and backward over Float32Arrays with the kernels.

/** Weights as the kernels want them (see mamba_kernels.ts for P, the padded x_proj width). */
interface KernelWeights {
  readonly convWT: Float32Array; // [w, e]
  readonly convB: Float32Array; // [e]
  readonly xProj: Float32Array; // [e, P], zero padded columns
  readonly xProjT: Float32Array; // [R, e]
  readonly dtProj: Float32Array; // [r, e]
  readonly dtBias: Float32Array; // [e]
  readonly a: Float32Array; // [e, n], A = -exp(aLog)
  readonly D: Float32Array; // [e]
}

/** [rows, cols] -> [rows, width] (width >= cols: zero padded; width < cols: cut). */
function withWidth(src: Float32Array, rows: number, cols: number, width: number): Float32Array {
  const out = new Float32Array(rows * width);
  const keep = Math.min(cols, width);
  for (let i = 0; i < rows; i++) out.set(src.subarray(i * cols, i * cols + keep), i * width);
  return out;
}

/** [rows, cols] -> [cols, rows]. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j];
  }
  return out;
}

/** The kernel layouts of the seven weights (all fresh arrays: the inputs may be views of the tf heap). */
function kernelWeights(d: CoreDims, wt: readonly Float32Array[]): KernelWeights {
  const [convW, convB, xProj, dtProj, dtBias, aLog, D] = wt;
  const a = new Float32Array(aLog.length);
  for (let i = 0; i < a.length; i++) a[i] = -Math.exp(aLog[i]);
  return {
    convWT: transpose(convW, d.e, d.w),
    convB: new Float32Array(convB),
    xProj: withWidth(xProj, d.e, d.R, d.P),
    xProjT: transpose(xProj, d.e, d.R),
    dtProj: new Float32Array(dtProj),
    dtBias: new Float32Array(dtBias),
    a,
    D: new Float32Array(D),
  };
}

type KernelWeightName = keyof KernelWeights;

/**
 * Largest exp(delta A) table (b l e n floats, in bytes) a taped forward pass keeps for its backward, which then
 * reads the scan's exponentials instead of recomputing them (same values: gradients unchanged bit for bit).
 * At d = 8 (e = 16) the table is 4 MB per layer and one layer's core forward + backward went from 2.82-2.84 to
 * 2.56-2.63 ms (min of 40, bench/mamba_core_bench.ts --d 8); at d = 64 it would be 32 MB per layer (64 MB more
 * peak memory for a two-layer model) and measured no faster (min 25.1-25.4 vs 24.4-27.1 ms: streaming the
 * table through memory costs about what the exponentials do), so wider layers recompute.
 */
const STORED_EXP_BYTES = 8 * 2 ** 20;
let storedExpBytes = STORED_EXP_BYTES;

/**
 * Set the largest exp(delta A) table a forward pass keeps (bytes; default 8 MB) and return the previous value;
 * for tests comparing the stored and recomputing backward paths. Call between steps, never between a forward
 * pass and its backward.
 */
export function setStoredExpBudget(bytes: number): number {
  const previous = storedExpBytes;
  storedExpBytes = bytes;
  return previous;
}

/** Whether a taped forward pass of these dims keeps exp(delta A) for the backward (see STORED_EXP_BYTES). */
function storesExp(d: CoreDims): boolean {
  return 4 * d.m * d.e * d.n <= storedExpBytes;
}

/**
 * The regions the forward pass fills and the backward pass reads, in memory order: inputs, kernel weights,
 * then intermediates. A taped forward pass lays them out in a slot, where its backward pass reads them.
 */
function savedRegions(
  d: CoreDims,
  dm = 0,
  last = false,
): Record<
  "x" | "z" | KernelWeightName | "xc" | "u" | "xdbl" | "dtRaw" | "delta" | "y" | "expDA" | BlockRegionName,
  number
> {
  const me = d.m * d.e;
  const be = d.b * d.e; // one row per sequence: the last position's
  return {
    x: me,
    z: last ? be : me, // a last-position block keeps z at the last position only
    xmLast: last ? d.b * dm : 0, // [b, dm]: xm at the last position
    convWT: d.w * d.e,
    convB: d.e,
    xProj: d.e * d.P,
    xProjT: d.R * d.e,
    dtProj: d.r * d.e,
    dtBias: d.e,
    a: d.e * d.n,
    D: d.e,
    xc: me, // conv output
    u: me, // silu(xc)
    xdbl: d.m * d.P, // [dtLow | B | C | 0]
    dtRaw: me, // before softplus
    delta: me,
    y: last ? be : me, // scan output with the D skip, before the gate (last: at the last position, [b, e])
    expDA: storesExp(d) ? d.m * d.e * d.n : 0, // exp(delta A) [b, e, l, n], or nothing
    // the block's (model dim dm > 0; else empty): its input, projection weights and the gate's output
    xm: d.m * dm, // [m, dm]
    inX: dm * d.e, // [dm, e]
    inZ: dm * d.e,
    outW: d.e * dm, // [e, dm]
    inXT: d.e * dm, // [e, dm]
    inZT: d.e * dm,
    outWT: dm * d.e, // [dm, e]
    gated: dm > 0 ? (last ? be : me) : 0, // [m, e], or [b, e] at the last position
  };
}

type BlockRegionName = "xm" | "inX" | "inZ" | "outW" | "inXT" | "inZT" | "outWT" | "gated" | "xmLast";

/**
 * Copy row (bi l + l - 1) of a [b l, width] array to row bi of a [b, width] one (`toLast`), or back (`fromLast`),
 * for bi < b: the last position of every sequence. Byte offsets into `memory`.
 */
function lastRows(
  memory: WebAssembly.Memory,
  full: number,
  compact: number,
  d: CoreDims,
  width: number,
  toLast: boolean,
): void {
  const all = view(memory, full, d.m * width), rows = view(memory, compact, d.b * width);
  for (let bi = 0; bi < d.b; bi++) {
    const at = (bi * d.l + d.l - 1) * width;
    if (toLast) rows.set(all.subarray(at, at + width), bi * width);
    else all.set(rows.subarray(bi * width, (bi + 1) * width), at);
  }
}

/** The fused block's projections around the core (model dim dm, inner dim e = 2 dm). */
interface BlockWeights {
  readonly dm: number;
  readonly inX: Float32Array; // [dm, e]
  readonly inZ: Float32Array; // [dm, e]
  readonly outW: Float32Array; // [e, dm]
}

/** What a forward pass starts from: the core's inputs x and z, or the block's input xm and projections. */
type ForwardSource =
  | { readonly x: Float32Array; readonly z: Float32Array }
  | { readonly xm: Float32Array; readonly block: BlockWeights };

const WEIGHT_NAMES: readonly KernelWeightName[] = ["convWT", "convB", "xProj", "xProjT", "dtProj", "dtBias", "a", "D"];

/*
 * Saved state stays in kernel memory (lib/kernels/slot_pool.ts): a taped forward pass writes its intermediates straight into a slot and
 * its backward pass reads them there. (Copying them out to a JS array and back in cost two ~18 MB copies per
 * layer and step at d = 64, ~12 ms of a ~155 ms step.) Slots sit at the start of each module's memory; every
 * call's scratch space (outputs, backward work arrays) starts after the last slot.
 *
 * A slot is held from the forward pass until its backward pass; a model with k Mamba layers holds k. A
 * forward pass whose backward never runs (a tape dropped by an error) frees its slot once its gradient
 * function is garbage collected.
 */
/**
 * out [m, e] (the block's: [m, dm], or with `last` [b, dm], the last position of each sequence; left in kernel
 * memory at `outAt`, scratch space) and, when `keep`, the slot holding the intermediates for the backward pass.
 * With `last` (block sources only) z, the gate and out_proj run at the last position only: nothing else reads them.
 */
function coreForward(
  d: CoreDims,
  src: ForwardSource,
  wk: KernelWeights,
  keep: boolean,
  last = false,
): { outAt: number; hold: SlotHold | undefined } {
  const block = "block" in src ? src.block : undefined;
  const dm = block?.dm ?? 0;
  if (last && !block) throw new Error("mamba core: a last-position forward needs the block's projections");
  const k = coreKernels(d.n, d.r, d.w, d.e, dm);
  const me = d.m * d.e;
  const pool = slotPool(k.memory);
  const regions = savedRegions(d, dm, last);
  const outSize = block ? (last ? d.b : d.m) * dm : me;
  const hold = keep ? pool.take(regionBytes(regions)) : undefined;
  const stores = hold !== undefined && storesExp(d);
  // the forward scan's exp(delta A): the kept table, or one channel's [l, n] block of scratch
  const scratch = { out: outSize, expScratch: stores ? 0 : d.l * d.n };
  const at = hold
    ? { ...reserve(k.memory, regions, hold.slot.offset), ...reserve(k.memory, scratch, pool.scratch()) }
    : reserve(k.memory, { ...regions, ...scratch }, pool.scratch());
  const put = (offset: number, values: Float32Array): void => view(k.memory, offset, values.length).set(values);
  if ("block" in src) {
    const { inX, inZ, outW } = src.block;
    put(at.xm, src.xm);
    put(at.inX, inX);
    put(at.inZ, inZ);
    put(at.outW, outW);
    if (hold) {
      put(at.inXT, transpose(inX, dm, d.e));
      put(at.inZT, transpose(inZ, dm, d.e));
      put(at.outWT, transpose(outW, d.e, dm));
    }
    k.inProj!(at.xm, at.inX, at.x, d.m, dm); // x = xm inX
    if (last) {
      lastRows(k.memory, at.xm, at.xmLast, d, dm, true);
      k.inProj!(at.xmLast, at.inZ, at.z, d.b, dm); // z = xm inZ at the last positions, [b, e]
    } else k.inProj!(at.xm, at.inZ, at.z, d.m, dm); // z = xm inZ
  } else {
    put(at.x, src.x);
    put(at.z, src.z);
  }
  for (const key of WEIGHT_NAMES) put(at[key], wk[key]);

  k.convSilu(at.x, at.convWT, at.convB, at.xc, at.u, d.b, d.l, d.e);
  k.xProj(at.u, at.xProj, at.xdbl, d.m, d.e);
  k.dtSoftplus(at.xdbl, at.dtProj, at.dtBias, at.dtRaw, at.delta, d.m, d.e);
  (last ? (stores ? k.scanForwardKeepLast : k.scanForwardLast) : stores ? k.scanForwardKeep : k.scanForward)(
    at.delta,
    at.u,
    at.xdbl + 4 * d.r, // B columns
    at.xdbl + 4 * (d.r + d.n), // C columns
    at.a,
    at.D,
    d.b,
    d.l,
    d.e,
    4 * d.P,
    at.y,
    stores ? at.expDA : at.expScratch,
  );
  if (last) {
    k.gate(at.y, at.z, at.gated, d.b * d.e);
    k.outProj!(at.gated, at.outW, at.out, d.b, d.e); // out = gated outW, [b, dm]
  } else if (block) {
    k.gate(at.y, at.z, at.gated, me);
    k.outProj!(at.gated, at.outW, at.out, d.m, d.e); // out = gated outW
  } else k.gate(at.y, at.z, at.out, me);
  return { outAt: at.out, hold };
}

/**
 * Gradients in the order of the op's inputs: xIn, z, convW, convB, xProj, dtProj, dtBias, aLog, D. The big
 * ones are views of kernel memory, valid until the next kernel call.
 */
function coreBackward(
  d: CoreDims,
  hold: SlotHold,
  a: Float32Array,
  dOut: Float32Array,
  dm = 0,
  last = false,
): Float32Array[] {
  const k = coreKernels(d.n, d.r, d.w, d.e, dm);
  const me = d.m * d.e;
  const be = d.b * d.e;
  const pool = slotPool(k.memory);
  pool.check(hold);
  const saved = reserve(k.memory, savedRegions(d, dm, last), hold.slot.offset);
  const sizes = {
    dOutM: (last ? d.b : d.m) * dm, // the block's: dOut [m, dm] (last: [b, dm]) on entry
    dxm: d.m * dm, // the block's input gradient [m, dm]
    dxmLast: last ? d.b * dm : 0, // its rows at the last positions, while dz's part is added
    dyLast: last ? be : 0, // d(gated), then dy, at the last positions
    dInX: dm * d.e,
    dInZ: dm * d.e,
    dOutW: d.e * dm,
    dy: last ? 0 : me, // dOut on entry (last: dyLast instead)
    dz: last ? be : me,
    dDelta: me, // becomes d(dtRaw)
    dU: me, // becomes d(xc)
    dxdbl: d.m * d.P,
    dA: d.e * d.n,
    dD: d.e,
    dDtProj: d.r * d.e,
    dDtBias: d.e,
    dXProj: d.e * d.P,
    dx: me,
    dConvWT: d.w * d.e,
    dConvB: d.e,
    hist: (d.l + 1) * d.n, // h[t - 1] for one (b, c), row 0 = h[-1] = 0
    dAHist: d.l * d.n,
  };
  const at = { ...saved, ...reserve(k.memory, sizes, pool.scratch()) };
  const take = (offset: number, size: number): Float32Array => copyOut(k.memory, offset, size);
  // zero what the kernels accumulate into (and dxdbl's padding columns, which x_proj_backward reads)
  for (const key of ["dxdbl", "dA", "dD", "dDtProj", "dDtBias", "dx", "dConvWT", "dConvB", "dxm"] as const) {
    view(k.memory, at[key], sizes[key]).fill(0);
  }
  view(k.memory, at.hist, d.n).fill(0);
  if (dm > 0) view(k.memory, at.dOutM, sizes.dOutM).set(dOut);
  if (last) {
    // d(gated) = dOut outW^T and the gate's gradients at the last positions; dy is zero elsewhere
    view(k.memory, at.dyLast, be).fill(0);
    k.outProjBackward!(at.dOutM, at.gated, at.outWT, at.dyLast, at.dOutW, d.b, d.e);
    k.gateBackward(at.dyLast, at.y, at.z, at.dyLast, at.dz, be);
  } else {
    if (dm > 0) {
      view(k.memory, at.dy, me).fill(0);
      k.outProjBackward!(at.dOutM, at.gated, at.outWT, at.dy, at.dOutW, d.m, d.e); // dy = dOut outW^T
    } else view(k.memory, at.dy, me).set(dOut);
    k.gateBackward(at.dy, at.y, at.z, at.dy, at.dz, me);
  }
  (last
    ? (storesExp(d) ? k.scanBackwardStoredLast : k.scanBackwardLast)
    : storesExp(d)
    ? k.scanBackwardStored
    : k.scanBackward)(
      at.delta,
      at.u,
      at.xdbl + 4 * d.r,
      at.xdbl + 4 * (d.r + d.n),
      at.a,
      at.D,
      d.b,
      d.l,
      d.e,
      4 * d.P,
      last ? at.dyLast : at.dy,
      at.dDelta,
      at.dU,
      at.dxdbl + 4 * d.r,
      at.dxdbl + 4 * (d.r + d.n),
      at.dA,
      at.dD,
      at.hist,
      at.dAHist,
      at.expDA, // read only by scanBackwardStored
    );
  k.dtSoftplusBackward(at.dDelta, at.dtRaw, at.xdbl, at.dtProj, at.dxdbl, at.dDtProj, at.dDtBias, d.m, d.e);
  k.xProjBackward(at.dxdbl, at.u, at.xProjT, at.dU, at.dXProj, d.m, d.e);
  k.convSiluBackward(at.dU, at.xc, at.x, at.convWT, at.dx, at.dConvWT, at.dConvB, d.b, d.l, d.e);
  if (dm > 0) k.inProjBackward!(at.dx, at.xm, at.inXT, at.dxm, at.dInX, d.m, dm); // dxm = dx inX^T, dInX = xm^T dx
  if (last) {
    // dz is zero before the last positions: dxm += dz inZ^T and dInZ = xm^T dz over those rows only
    lastRows(k.memory, at.dxm, at.dxmLast, d, dm, true);
    k.inProjBackward!(at.dz, at.xmLast, at.inZT, at.dxmLast, at.dInZ, d.b, dm);
    lastRows(k.memory, at.dxm, at.dxmLast, d, dm, false);
  } else if (dm > 0) k.inProjBackward!(at.dz, at.xm, at.inZT, at.dxm, at.dInZ, d.m, dm); // dxm += dz inZ^T, dInZ = xm^T dz
  releaseSlot(hold);

  // d aLog = dA * dA/daLog = dA * A
  const dALog = take(at.dA, d.e * d.n);
  for (let i = 0; i < dALog.length; i++) dALog[i] *= a[i];
  const coreGrads = [
    transpose(view(k.memory, at.dConvWT, d.w * d.e), d.w, d.e),
    take(at.dConvB, d.e),
    withWidth(view(k.memory, at.dXProj, d.e * d.P), d.e, d.P, d.R),
    take(at.dDtProj, d.r * d.e),
    take(at.dDtBias, d.e),
    dALog,
    take(at.dD, d.e),
  ];
  if (dm > 0) {
    return [
      view(k.memory, at.dxm, d.m * dm),
      take(at.dInX, dm * d.e),
      take(at.dInZ, dm * d.e),
      ...coreGrads,
      take(at.dOutW, d.e * dm),
    ];
  }
  return [view(k.memory, at.dx, me), view(k.memory, at.dz, me), ...coreGrads];
}

/** The core's seven weight tensors, in INPUT_NAMES order from convW, as the named weights coreDims checks. */
function coreWeightsOf(ts: readonly tf.Tensor[]): MambaCoreWeights {
  const [convW, convB, xProj, dtProj, dtBias, aLog, D] = ts;
  return {
    convW: convW as tf.Tensor2D,
    convB: convB as tf.Tensor1D,
    xProj: xProj as tf.Tensor2D,
    dtProj: dtProj as tf.Tensor2D,
    dtBias: dtBias as tf.Tensor1D,
    aLog: aLog as tf.Tensor2D,
    D: D as tf.Tensor1D,
  };
}

const INPUT_NAMES = ["xIn", "z", "convW", "convB", "xProj", "dtProj", "dtBias", "aLog", "D"] as const;

function coreWithGrad(...args: (tf.Tensor | tf.GradSaveFunc)[]): {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor) => tf.Tensor[];
} {
  const inputs = args.slice(0, INPUT_NAMES.length) as tf.Tensor[];
  const [xIn, z] = inputs;
  const d = coreDims(xIn as tf.Tensor3D, z as tf.Tensor3D, coreWeightsOf(inputs.slice(2)));
  const data = inputs.map((t, i) => floats(t, `mamba core: ${INPUT_NAMES[i]}`)); // views: copied before any tf op runs
  const wk = kernelWeights(d, data.slice(2));
  // Only a gradient tape can ever call gradFunc: without one (evaluation) nothing is saved.
  const taped = tf.engine().state.gradientDepth > 0; // inside customGrad's forward kernelDepth is already 1
  const { outAt, hold } = clocked("forward", () => coreForward(d, { x: data[0], z: data[1] }, wk, taped));
  const kernelMemory = coreKernels(d.n, d.r, d.w, d.e).memory;
  const a = wk.a;
  let used = false;
  const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
    if (!hold) throw new Error("mamba core: backward without a gradient tape in the forward pass");
    if (used) throw new Error("mamba core: backward called twice for one forward pass");
    used = true;
    const grads = clocked("backward", () => coreBackward(d, hold, a, floats(dy, "dy")));
    return grads.map((g, i) => tensorOf(g, inputs[i].shape));
  };
  if (hold) dropped.register(gradFunc, hold);
  return { value: tensorOf(view(kernelMemory, outAt, d.m * d.e), [d.b, d.l, d.e]), gradFunc };
}

const fastCore = tf.customGrad(coreWithGrad as Parameters<typeof tf.customGrad>[0]);

/**
 * The core as one tf op with a hand-written gradient for all nine inputs (same values as
 * `mambaCoreReference`). Needs float32 inputs and e, n multiples of 4. Each input is read once; under a
 * gradient tape the forward keeps its intermediates (~8 [b, l, e] arrays) in a kernel-memory slot for the
 * backward, without a tape (evaluation) it keeps nothing.
 */
export function mambaCore(xIn: tf.Tensor3D, z: tf.Tensor3D, w: MambaCoreWeights): tf.Tensor3D {
  coreDims(xIn, z, w);
  if (xIn.shape[2] % 4 !== 0) {
    throw new Error(`mamba core: the fast path needs an inner dim e that is a multiple of 4, got ${xIn.shape[2]}`);
  }
  return fastCore(xIn, z, w.convW, w.convB, w.xProj, w.dtProj, w.dtBias, w.aLog, w.D) as tf.Tensor3D;
}

// ---------------------------------------------------------------------------------------------------------
// The core with its in- and out-projections as one op (used by mamba_block.ts at small model dims).

/** The block's projections: x = xm inX, z = xm inZ before the core, out = core(x, z) outW after it. */
export interface MambaProjections {
  readonly inX: tf.Tensor2D; // [dm, e]
  readonly inZ: tf.Tensor2D; // [dm, e]
  readonly out: tf.Tensor2D; // [e, dm]
}

const BLOCK_INPUT_NAMES = [
  "xm",
  "inX",
  "inZ",
  "convW",
  "convB",
  "xProj",
  "dtProj",
  "dtBias",
  "aLog",
  "D",
  "out",
] as const;

/** The block op's forward and gradient; with `last` its output is the last position only, [b, 1, dm]. */
const blockWithGrad = (last: boolean) =>
(...args: (tf.Tensor | tf.GradSaveFunc)[]): {
  value: tf.Tensor;
  gradFunc: (dy: tf.Tensor) => tf.Tensor[];
} => {
  const inputs = args.slice(0, BLOCK_INPUT_NAMES.length) as tf.Tensor[];
  const [xm, inX] = inputs;
  const [b, l, dm] = xm.shape;
  const e = inX.shape[1];
  const inner = { shape: [b, l, e] } as tf.Tensor3D; // coreDims reads shapes only
  const d = coreDims(inner, inner, coreWeightsOf(inputs.slice(3)));
  const data = inputs.map((t, i) => floats(t, `mamba block: ${BLOCK_INPUT_NAMES[i]}`)); // views: copied first
  const wk = kernelWeights(d, data.slice(3, 10));
  const block: BlockWeights = { dm, inX: data[1].slice(), inZ: data[2].slice(), outW: data[10].slice() };
  const taped = tf.engine().state.gradientDepth > 0; // inside customGrad's forward kernelDepth is already 1
  const { outAt, hold } = clocked("forward", () => coreForward(d, { xm: data[0], block }, wk, taped, last));
  const kernelMemory = coreKernels(d.n, d.r, d.w, d.e, dm).memory;
  const a = wk.a;
  let used = false;
  const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
    if (!hold) throw new Error("mamba block: backward without a gradient tape in the forward pass");
    if (used) throw new Error("mamba block: backward called twice for one forward pass");
    used = true;
    const grads = clocked("backward", () => coreBackward(d, hold, a, floats(dy, "dy"), dm, last));
    return grads.map((g, i) => tensorOf(g, inputs[i].shape));
  };
  if (hold) dropped.register(gradFunc, hold);
  const rows = last ? 1 : l;
  return { value: tensorOf(view(kernelMemory, outAt, b * rows * dm), [b, rows, dm]), gradFunc };
};

const fastBlock = tf.customGrad(blockWithGrad(false) as Parameters<typeof tf.customGrad>[0]);
const fastBlockLast = tf.customGrad(blockWithGrad(true) as Parameters<typeof tf.customGrad>[0]);

/**
 * in_proj, the core and out_proj as ONE tf op: xm [b, l, dm] -> [b, l, dm], with gradients for xm, the three
 * projections and the core's seven weights (same values as linear -> core -> linear). The projections run in
 * the core's memory: no matMul dispatches, no transposes, no copies of x and z. Needs dm a multiple of 4. Up to
 * ROW_PROJECTION_MAX_DIM (mamba_kernels.ts) the projections multiply-add fused; wider, GEMM tiles with
 * tf.matMul's arithmetic, so that there the op's values and gradients equal linear -> mambaCore -> linear's bit
 * for bit.
 *
 * With `last`, the output is the last position of each sequence only, [b, 1, dm]: the same values as the full
 * op's [:, l - 1], and the same gradients as the full op given a gradient that is zero before the last position
 * (what a readout of the last position sends). The scan still runs over every position (the state needs them);
 * z, the gate and out_proj, forward and backward, run on the b last rows instead of all b l.
 */
export function projectedCore(xm: tf.Tensor3D, p: MambaProjections, w: MambaCoreWeights, last = false): tf.Tensor3D {
  const [, , dm] = xm.shape;
  const [pd, e] = p.inX.shape;
  const shapes: [string, readonly number[], readonly number[]][] = [
    ["inX", p.inX.shape, [dm, e]],
    ["inZ", p.inZ.shape, [dm, e]],
    ["out", p.out.shape, [e, dm]],
  ];
  for (const [name, got, want] of shapes) {
    if (got.length !== 2 || got[0] !== want[0] || got[1] !== want[1]) {
      throw new Error(`mamba block: ${name} must be [${want}], got [${got}]`);
    }
  }
  if (pd !== dm || dm % 4 !== 0 || e !== 2 * dm) {
    throw new Error(`mamba block: the fused path needs dm a multiple of 4 and e = 2 dm, got dm=${dm}, e=${e}`);
  }
  return (last ? fastBlockLast : fastBlock)(
    xm,
    p.inX,
    p.inZ,
    w.convW,
    w.convB,
    w.xProj,
    w.dtProj,
    w.dtBias,
    w.aLog,
    w.D,
    p.out,
  ) as tf.Tensor3D;
}
