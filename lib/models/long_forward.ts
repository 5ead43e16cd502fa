/**
 * The model's forward pass over a sequence fed one chunk of tokens at a time, for evaluation at lengths where the
 * full forward (model.ts `logits`, which holds [b, l, ...] activations of every layer) would not fit: only the
 * logits at the LAST position are produced, since that is all associative recall reads.
 *
 * Per layer kind, what crosses a chunk boundary:
 * - Mamba: the last w - 1 rows of the block's input (the causal conv's window: in_proj is recomputed for them,
 *   w = conv width 4) and the scan state h [b, e, n]. Memory is constant in l. The chunk's conv, x_proj, dt_proj
 *   and the gate run on the training kernels (mamba_kernels.ts, so the same arithmetic as the full forward), the
 *   scan on mamba_stream_kernels.ts (the training scan's steps with the state carried in and out), all in one
 *   kernel memory.
 * - Attention, not the last layer: every position's key and value (RoPE applied at its absolute position), [b, h,
 *   k, l] each, O(l d) floats; each chunk's queries attend to all keys up to their own position (causal) in a
 *   WebAssembly kernel (attention_stream_kernels.ts) that needs one row of l scores per query, never an l x l matrix.
 * - Attention as the last layer (Transformers' layer 2, the Hybrid's attention): its normalised inputs [b, l, d],
 *   O(l d) floats; at `logits()` the last position's query attends to all of them in one pass with an online
 *   softmax (without RoPE the key and value projections folded into the query and the weighted sum). The Hybrid
 *   therefore holds l d floats per sequence (32 MB at l = 2^20, d = 8; 256 MB at d = 64): its memory grows with l,
 *   the pure Mamba's does not.
 * - The last Mamba layer keeps y, and its input row, at the newest position only: z, the gate and out_proj run at
 *   `logits()` for that one row.
 *
 * Equivalence: the same logits as `model.logits` to float32 rounding (tests/evaluate_long_test.ts checks 1e-5 over
 * lengths and chunk sizes 1, 7, 64; the Mamba path agrees far closer, the scan being the same operations).
 * The last layer's attention and the readout are plain loops here (float64 sums), the attention kernel sums in its own
 * order: that is where the last bits differ.
 *
 * Needs d a multiple of 4 for a Mamba layer (the fused projection kernels'), which d = 8 and 64 are.
 *
 * Glossary: b batch (sequences in lockstep), c rows of the current chunk, l length so far, d model dim, e inner dim
 * (2d), n state dim, r dt rank, w conv width, h heads, k head dim (d / h), K vocabulary, P x_proj row stride.
 */
import type { ModelConfig } from "./config.ts";
import type { Model } from "./model.ts";
import { embedding } from "../task/embedding.ts";
import { layerNormRows } from "./layer_norm.ts";
import { layerNormKernels } from "../kernels/layer_norm_kernels.ts";
import { coreKernels } from "../kernels/mamba_kernels.ts";
import { SCAN_BLOCK, streamScan } from "../kernels/mamba_stream_kernels.ts";
import { reserve, view } from "../kernels/assembler.ts";
import { slotPool } from "../kernels/slot_pool.ts";
import { ropeTable } from "./rope.ts";
import { attentionStreamKernels } from "../kernels/attention_stream_kernels.ts";
import { modelWeights, type ModelWeightsOf } from "./model_weights.ts";
import type { MambaWeights } from "./mamba_mixer.ts";
import type { AttentionWeights } from "./attention.ts";

/**
 * A model's weights as plain arrays, by their `model.params` names (layer0.mamba.in_proj.x, readout.w, ...); the
 * stream finds each layer's by model_weights.ts.
 */
export interface StreamWeights<C extends ModelConfig = ModelConfig> {
  readonly config: C;
  readonly arrays: ReadonlyMap<string, Float32Array>;
}

/** The weights of a built (or trained) model, copied out of its variables. */
export function weightsOfModel<C extends ModelConfig>(model: Model<C>): StreamWeights<C> {
  const arrays = new Map<string, Float32Array>();
  for (const { name, variable } of model.params) arrays.set(name, (variable.dataSync() as Float32Array).slice());
  return { config: model.config, arrays };
}

/** LayerNorm epsilon, as model.ts's norms use it (layer_norm.ts default). */
const EPS = 1e-5;

/**
 * LayerNorm of rows x [m, d]: the model's SIMD kernel when d is a multiple of 4 (as model.ts's norms run; the JS loop
 * took 1.1 s of a 12.5 s d = 64 2^20 run), else the plain loop. A fresh array.
 */
function normRows(x: Float32Array, gain: Float32Array, bias: Float32Array, m: number, d: number): Float32Array {
  if (d % 4 !== 0) return layerNormRows(x, gain, bias, m, d, EPS, false).y;
  const k = layerNormKernels(d, EPS);
  const at = reserve(k.memory, { x: m * d, gain: d, bias: d, y: m * d, xhat: m * d, rstd: m });
  view(k.memory, at.x, m * d).set(x);
  view(k.memory, at.gain, d).set(gain);
  view(k.memory, at.bias, d).set(bias);
  k.forward(at.x, at.gain, at.bias, at.y, at.xhat, at.rstd, m);
  return view(k.memory, at.y, m * d).slice();
}

/** The weights by layer (model_weights.ts), each checked for its size. */
function arraysByLayer(w: StreamWeights): ModelWeightsOf<Float32Array> {
  return modelWeights(w.config, (name, shape) => {
    const a = w.arrays.get(name);
    if (!a) throw new Error(`stream weights: no parameter ${name}`);
    const size = shape.reduce((p, n) => p * n, 1);
    if (a.length !== size) throw new Error(`stream weights: ${name} has ${a.length} entries, expected ${size}`);
    return a;
  });
}

/** A layer's weights as arrays, by the fields of its mixer's weight table. */
type ArraysOf<W> = { readonly [F in keyof W]: Float32Array };

/** out [m, q] = x [m, p] W [p, q] (float64 sums, rounded once). */
function matMulRows(x: Float32Array, w: Float32Array, m: number, p: number, q: number): Float32Array {
  const out = new Float32Array(m * q);
  const acc = new Float64Array(q);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let j = 0; j < p; j++) {
      const xv = x[i * p + j];
      if (xv === 0) continue;
      const row = j * q;
      for (let o = 0; o < q; o++) acc[o] += xv * w[row + o];
    }
    for (let o = 0; o < q; o++) out[i * q + o] = acc[o];
  }
  return out;
}

/** One layer of the stream: takes the chunk's normalised inputs, returns its outputs (undefined for the last). */
interface StreamLayer {
  /** xn [b, c, d] -> the mixer's output [b, c, d], or with `last` nothing (the layer keeps what logits needs). */
  push(xn: Float32Array, c: number, last: boolean): Float32Array | undefined;
  /** The mixer's output at the newest position [b, d] (a last layer only). */
  lastOutput(): Float32Array;
}

// ---------------------------------------------------------------------------------------------------------
// Mamba.

class MambaStreamLayer implements StreamLayer {
  readonly #b: number;
  readonly #dm: number;
  readonly #e: number;
  readonly #n: number;
  readonly #r: number;
  readonly #w: number;
  readonly #weights: Record<"inX" | "inZ" | "outW" | "convWT" | "convB" | "xProj" | "dtProj" | "dtBias", Float32Array>;
  readonly #a: Float32Array; // [e, n], A = -exp(A_log)
  readonly #D: Float32Array; // [e]
  /** The last w - 1 block inputs of each sequence [b, w - 1, d] (zeros before the start, as the conv pads). */
  readonly #carry: Float32Array;
  /** The scan state [b, e, n]. */
  readonly #state: Float32Array;
  /** At the newest position (a last layer): y [b, e] and the block input [b, d]. */
  readonly #yLast: Float32Array;
  readonly #xmLast: Float32Array;

  constructor(c: ModelConfig, w: ArraysOf<MambaWeights>, b: number) {
    const dm = c.d, e = c.mambaInner, n = c.mambaState, r = c.dtRank, k = c.convWidth;
    if (dm % 4 !== 0) throw new Error(`the streaming Mamba needs d a multiple of 4, got d=${dm}`);
    this.#b = b;
    this.#dm = dm;
    this.#e = e;
    this.#n = n;
    this.#r = r;
    this.#w = k;
    const P = coreKernels(n, r, k, e, dm).p;
    const R = r + 2 * n;
    const convWT = new Float32Array(k * e); // [w, e]
    for (let i = 0; i < e; i++) for (let j = 0; j < k; j++) convWT[j * e + i] = w.convW[i * k + j];
    const xProjP = new Float32Array(e * P); // [e, P], zero padded
    for (let i = 0; i < e; i++) xProjP.set(w.xProj.subarray(i * R, (i + 1) * R), i * P);
    this.#weights = {
      inX: w.inX,
      inZ: w.inZ,
      outW: w.out,
      convWT,
      convB: w.convB,
      xProj: xProjP,
      dtProj: w.dtProj,
      dtBias: w.dtBias,
    };
    this.#a = new Float32Array(e * n);
    for (let i = 0; i < e * n; i++) this.#a[i] = -Math.exp(w.aLog[i]);
    this.#D = w.D;
    this.#carry = new Float32Array(b * (k - 1) * dm);
    this.#state = new Float32Array(b * e * n);
    this.#yLast = new Float32Array(b * e);
    this.#xmLast = new Float32Array(b * dm);
  }

  /**
   * One chunk: each sequence's rows are laid out after its w - 1 carried rows ("padded", lp = c + w - 1 rows), so
   * the training conv kernel (zero taps before a sequence's row 0) sees the true previous inputs; in_proj, x_proj
   * and dt_proj run over the padded rows too (w - 1 extra rows per chunk), the scan over the c real ones.
   */
  push(xn: Float32Array, c: number, last: boolean): Float32Array | undefined {
    const b = this.#b, dm = this.#dm, e = this.#e, n = this.#n, r = this.#r, w = this.#w;
    const lp = c + w - 1;
    const rows = b * lp;
    const k = coreKernels(n, r, w, e, dm);
    const P = k.p;
    const wt = this.#weights;
    // Kernel memory is written afresh every chunk (weights included): the model's own forward shares this module.
    const at = reserve(k.memory, {
      xm: rows * dm, // [b, lp, d]
      inX: dm * e,
      inZ: dm * e,
      outW: e * dm,
      convWT: w * e,
      convB: e,
      xProj: e * P,
      dtProj: r * e,
      dtBias: e,
      x: rows * e, // [b, lp, e]
      xc: rows * e,
      u: rows * e,
      xdbl: rows * P, // [b, lp, P] = [dtLow | B | C | 0]
      dtRaw: rows * e,
      delta: rows * e,
      state: b * e * n, // [b, e, n]
      a: e * n,
      D: e,
      expAt: SCAN_BLOCK * n,
      y: rows * e, // [b, lp, e]
      z: last ? 0 : rows * e,
      gated: last ? 0 : rows * e,
      out: last ? 0 : rows * dm, // [b, lp, d]
    }, slotPool(k.memory).scratch());
    for (const key of ["inX", "inZ", "outW", "convWT", "convB", "xProj", "dtProj", "dtBias"] as const) {
      view(k.memory, at[key], wt[key].length).set(wt[key]);
    }
    const xm = view(k.memory, at.xm, rows * dm); // [b, lp, d]
    const carryRows = (w - 1) * dm;
    for (let bi = 0; bi < b; bi++) {
      xm.set(this.#carry.subarray(bi * carryRows, (bi + 1) * carryRows), bi * lp * dm);
      xm.set(xn.subarray(bi * c * dm, (bi + 1) * c * dm), (bi * lp + w - 1) * dm);
      this.#carry.set(xm.subarray((bi * lp + c) * dm, (bi + 1) * lp * dm), bi * carryRows); // the last w - 1 rows
      this.#xmLast.set(xm.subarray(((bi + 1) * lp - 1) * dm, (bi + 1) * lp * dm), bi * dm);
    }
    k.inProj!(at.xm, at.inX, at.x, rows, dm); // x = xm inX, [b, lp, e]
    k.convSilu(at.x, at.convWT, at.convB, at.xc, at.u, b, lp, e); // u = silu(conv(x)), [b, lp, e]
    k.xProj(at.u, at.xProj, at.xdbl, rows, e); // [b, lp, P]
    k.dtSoftplus(at.xdbl, at.dtProj, at.dtBias, at.dtRaw, at.delta, rows, e); // delta [b, lp, e]

    // The scan, on the same memory, from the state the previous chunk left.
    view(k.memory, at.state, b * e * n).set(this.#state);
    view(k.memory, at.a, e * n).set(this.#a);
    view(k.memory, at.D, e).set(this.#D);
    const scan = streamScan(n, k.memory);
    for (let bi = 0; bi < b; bi++) {
      const row = bi * lp + w - 1; // the sequence's first real row
      scan(
        at.delta + 4 * e * row,
        at.u + 4 * e * row,
        at.xdbl + 4 * (P * row + r), // B columns
        at.xdbl + 4 * (P * row + r + n), // C columns
        at.a,
        at.D,
        c,
        e,
        4 * P,
        at.state + 4 * e * n * bi,
        at.y + 4 * e * row,
        last ? c - 1 : 0, // a last layer needs y at the newest row only
        at.expAt,
      );
    }
    this.#state.set(view(k.memory, at.state, b * e * n));
    const y = view(k.memory, at.y, rows * e); // [b, lp, e], valid at real rows
    if (last) {
      for (let bi = 0; bi < b; bi++) {
        this.#yLast.set(y.subarray(((bi + 1) * lp - 1) * e, (bi + 1) * lp * e), bi * e);
      }
      return undefined;
    }
    k.inProj!(at.xm, at.inZ, at.z, rows, dm); // z = xm inZ
    k.gate(at.y, at.z, at.gated, rows * e); // y silu(z)
    k.outProj!(at.gated, at.outW, at.out, rows, e); // [b, lp, d]
    const out = view(k.memory, at.out, rows * dm);
    const result = new Float32Array(b * c * dm); // [b, c, d]
    for (let bi = 0; bi < b; bi++) {
      result.set(out.subarray((bi * lp + w - 1) * dm, (bi + 1) * lp * dm), bi * c * dm);
    }
    return result;
  }

  /** z, the gate and out_proj at the newest position, from the kept y and block input: [b, d]. */
  lastOutput(): Float32Array {
    const b = this.#b, dm = this.#dm, e = this.#e;
    const z = matMulRows(this.#xmLast, this.#weights.inZ, b, dm, e); // [b, e]
    const gated = new Float32Array(b * e); // [b, e]
    for (let i = 0; i < b * e; i++) gated[i] = this.#yLast[i] * (z[i] / (1 + Math.exp(-z[i])));
    return matMulRows(gated, this.#weights.outW, b, e, dm); // [b, d]
  }
}

// ---------------------------------------------------------------------------------------------------------
// Attention.

/** Rotate rows [m, d] in place by RoPE at positions pos0, pos0 + 1, ... (m / rowsPerPos rows each), per head. */
function ropeRows(x: Float32Array, b: number, c: number, d: number, k: number, pos0: number): void {
  const half = k / 2;
  const table = ropeTable(pos0 + c, k);
  for (let bi = 0; bi < b; bi++) {
    for (let t = 0; t < c; t++) {
      const p = pos0 + t;
      const row = (bi * c + t) * d;
      for (let head = 0; head < d; head += k) {
        for (let i = 0; i < half; i++) {
          const cos = table.cos[i * table.length + p], sin = table.sin[i * table.length + p];
          const j = row + head + 2 * i;
          const x0 = x[j], x1 = x[j + 1];
          x[j] = x0 * cos - x1 * sin;
          x[j + 1] = x0 * sin + x1 * cos;
        }
      }
    }
  }
}

class AttentionStreamLayer implements StreamLayer {
  readonly #b: number;
  readonly #d: number;
  readonly #h: number;
  readonly #k: number;
  readonly #length: number;
  /**
   * Key capacity: the length rounded up to a multiple of 4 (the kernel reads keys four at a time), plus 16 so that
   * a row of values does not start a power-of-two distance after the last (cache sets alias at 2^12-byte strides).
   */
  readonly #capacity: number;
  readonly #rope: boolean;
  readonly #wq: Float32Array;
  readonly #wk: Float32Array;
  readonly #wv: Float32Array;
  readonly #wo: Float32Array;
  /** Non-last layer: keys and values [b, h, k, capacity]; last layer: normalised inputs [b, length, d]. */
  #keys: Float32Array | undefined;
  #values: Float32Array | undefined;
  #inputs: Float32Array | undefined;
  /** Positions pushed so far. */
  #l = 0;

  constructor(c: ModelConfig, w: ArraysOf<AttentionWeights>, b: number, length: number) {
    this.#b = b;
    this.#d = c.d;
    this.#h = c.heads;
    this.#k = c.d / c.heads;
    this.#length = length;
    this.#capacity = Math.ceil(length / 4) * 4 + 16;
    this.#rope = c.pe === "rope";
    this.#wq = w.wq;
    this.#wk = w.wk;
    this.#wv = w.wv;
    this.#wo = w.wo;
  }

  push(xn: Float32Array, c: number, last: boolean): Float32Array | undefined {
    const b = this.#b, d = this.#d, L = this.#length;
    if (this.#l + c > L) throw new Error(`attention stream: ${this.#l + c} positions pushed, sized for ${L}`);
    if (last) {
      this.#inputs ??= new Float32Array(b * L * d); // [b, length, d]
      for (let bi = 0; bi < b; bi++) {
        this.#inputs.set(xn.subarray(bi * c * d, (bi + 1) * c * d), (bi * L + this.#l) * d);
      }
      this.#l += c;
      return undefined;
    }
    const h = this.#h, k = this.#k, cap = this.#capacity;
    const q = matMulRows(xn, this.#wq, b * c, d, d); // [b, c, d]
    const kk = matMulRows(xn, this.#wk, b * c, d, d);
    const v = matMulRows(xn, this.#wv, b * c, d, d);
    if (this.#rope) {
      ropeRows(q, b, c, d, k, this.#l);
      ropeRows(kk, b, c, d, k, this.#l);
    }
    this.#keys ??= new Float32Array(b * d * cap); // [b, h, cap / 4, k, 4]: quads of keys per head
    this.#values ??= new Float32Array(b * d * cap); // [b, h, k, cap]: transposed per head
    for (let bi = 0; bi < b; bi++) {
      for (let t = 0; t < c; t++) {
        const from = (bi * c + t) * d, p = this.#l + t;
        for (let hi = 0; hi < h; hi++) {
          const head = (bi * h + hi) * k * cap, quad = head + (p >> 2) * 4 * k + (p & 3);
          for (let j = 0; j < k; j++) {
            this.#keys[quad + 4 * j] = kk[from + hi * k + j];
            this.#values[head + j * cap + p] = v[from + hi * k + j];
          }
        }
      }
    }
    const t0 = this.#l;
    this.#l += c;
    const ks = attentionStreamKernels();
    const at = reserve(ks.memory, { q: c * d, out: c * d, keys: d * cap, valuesT: d * cap, scores: cap, scale: 1 });
    view(ks.memory, at.scale, 1)[0] = 1 / Math.sqrt(k);
    const merged = new Float32Array(b * c * d); // [b, c, d]: heads side by side
    for (let bi = 0; bi < b; bi++) {
      view(ks.memory, at.q, c * d).set(q.subarray(bi * c * d, (bi + 1) * c * d)); // [c, d]
      view(ks.memory, at.keys, d * cap).set(this.#keys.subarray(bi * d * cap, (bi + 1) * d * cap)); // [h, cap/4, k, 4]
      view(ks.memory, at.valuesT, d * cap).set(this.#values.subarray(bi * d * cap, (bi + 1) * d * cap));
      for (let hi = 0; hi < h; hi++) {
        ks.attendBlock(
          at.q + 4 * hi * k,
          at.keys + 4 * hi * k * cap,
          at.valuesT + 4 * hi * k * cap,
          at.out + 4 * hi * k,
          at.scores,
          at.scale,
          c,
          t0,
          k,
          4 * d,
          4 * cap,
        );
      }
      merged.set(view(ks.memory, at.out, c * d), bi * c * d);
    }
    return matMulRows(merged, this.#wo, b * c, d, d); // [b, c, d]
  }

  /**
   * The newest position's query against every key (a last layer), with an online softmax (running max and sum), so
   * nothing of size l but the kept inputs. Without RoPE the projections move off the l positions: a head's score
   * q . (x Wk) is x . (Wk q), and sum_s p_s (x_s Wv) is (sum_s p_s x_s) Wv, so each position costs 2 d per head
   * instead of the 2 d^2 of projecting its key and value (32x less at d = 64: the Hybrid at 2^20).
   */
  lastOutput(): Float32Array {
    if (!this.#rope) return this.#lastOutputFolded();
    const b = this.#b, d = this.#d, h = this.#h, k = this.#k, L = this.#length, l = this.#l;
    const inputs = this.#inputs!;
    const merged = new Float32Array(b * d); // [b, d]
    const scale = 1 / Math.sqrt(k);
    const table = this.#rope ? ropeTable(l, k) : undefined;
    const rotate = (x: Float64Array, p: number): void => {
      if (!table) return;
      for (let head = 0; head < d; head += k) {
        for (let i = 0; i < k / 2; i++) {
          const cos = table.cos[i * table.length + p], sin = table.sin[i * table.length + p];
          const j = head + 2 * i;
          const x0 = x[j], x1 = x[j + 1];
          x[j] = x0 * cos - x1 * sin;
          x[j + 1] = x0 * sin + x1 * cos;
        }
      }
    };
    const project = (row: number, wm: Float32Array, out: Float64Array): void => {
      out.fill(0);
      for (let j = 0; j < d; j++) {
        const xv = inputs[row + j];
        for (let o = 0; o < d; o++) out[o] += xv * wm[j * d + o];
      }
    };
    const q = new Float64Array(d), kk = new Float64Array(d), v = new Float64Array(d);
    const max = new Float64Array(h), sum = new Float64Array(h), acc = new Float64Array(d);
    for (let bi = 0; bi < b; bi++) {
      project((bi * L + l - 1) * d, this.#wq, q);
      for (let i = 0; i < d; i++) q[i] = Math.fround(q[i]); // as a float32 projection
      rotate(q, l - 1);
      max.fill(-Infinity);
      sum.fill(0);
      acc.fill(0);
      for (let s = 0; s < l; s++) {
        const row = (bi * L + s) * d;
        project(row, this.#wk, kk);
        project(row, this.#wv, v);
        rotate(kk, s);
        for (let hi = 0; hi < h; hi++) {
          let dot = 0;
          for (let j = hi * k; j < (hi + 1) * k; j++) dot += q[j] * kk[j];
          const score = dot * scale;
          if (score > max[hi]) {
            const shrink = Math.exp(max[hi] - score); // rescale what was summed under the old max
            sum[hi] *= shrink;
            for (let j = hi * k; j < (hi + 1) * k; j++) acc[j] *= shrink;
            max[hi] = score;
          }
          const p = Math.exp(score - max[hi]);
          sum[hi] += p;
          for (let j = hi * k; j < (hi + 1) * k; j++) acc[j] += p * v[j];
        }
      }
      for (let hi = 0; hi < h; hi++) {
        for (let j = hi * k; j < (hi + 1) * k; j++) merged[bi * d + j] = acc[j] / sum[hi];
      }
    }
    return matMulRows(merged, this.#wo, b, d, d); // [b, d]
  }

  /** `lastOutput` without RoPE, the projections folded into the query and the weighted sum (see there). */
  #lastOutputFolded(): Float32Array {
    const b = this.#b, d = this.#d, h = this.#h, k = this.#k, L = this.#length, l = this.#l;
    const inputs = this.#inputs!;
    const wq = this.#wq, wk = this.#wk, wv = this.#wv;
    const scale = 1 / Math.sqrt(k);
    const merged = new Float32Array(b * d); // [b, d]
    const q = new Float64Array(d); // [d]
    const fold = new Float64Array(h * d); // [h, d]: row hi = scale Wk[:, head hi] q[head hi]
    const acc = new Float64Array(h * d); // [h, d]: sum_s p_s x_s per head
    const max = new Float64Array(h), sum = new Float64Array(h);
    for (let bi = 0; bi < b; bi++) {
      const last = (bi * L + l - 1) * d;
      for (let o = 0; o < d; o++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += inputs[last + j] * wq[j * d + o];
        q[o] = Math.fround(dot); // as a float32 projection
      }
      for (let hi = 0; hi < h; hi++) {
        for (let j = 0; j < d; j++) {
          let dot = 0;
          for (let i = hi * k; i < (hi + 1) * k; i++) dot += wk[j * d + i] * q[i];
          fold[hi * d + j] = scale * dot;
        }
      }
      max.fill(-Infinity);
      sum.fill(0);
      acc.fill(0);
      for (let s = 0; s < l; s++) {
        const row = (bi * L + s) * d;
        for (let hi = 0; hi < h; hi++) {
          let score = 0;
          for (let j = 0; j < d; j++) score += inputs[row + j] * fold[hi * d + j];
          if (score > max[hi]) {
            const shrink = Math.exp(max[hi] - score); // rescale what was summed under the old max
            sum[hi] *= shrink;
            for (let j = hi * d; j < (hi + 1) * d; j++) acc[j] *= shrink;
            max[hi] = score;
          }
          const p = Math.exp(score - max[hi]);
          sum[hi] += p;
          for (let j = 0; j < d; j++) acc[hi * d + j] += p * inputs[row + j];
        }
      }
      for (let hi = 0; hi < h; hi++) {
        for (let i = hi * k; i < (hi + 1) * k; i++) {
          let dot = 0;
          for (let j = 0; j < d; j++) dot += acc[hi * d + j] * wv[j * d + i];
          merged[bi * d + i] = dot / sum[hi];
        }
      }
    }
    return matMulRows(merged, this.#wo, b, d, d); // [b, d]
  }
}

// ---------------------------------------------------------------------------------------------------------
// The model.

/**
 * The model over b sequences of `length` tokens fed in chunks (`push`), in lockstep; `logits()` gives [b, K] at the
 * newest position. Memory: constant in l for Mamba layers, O(l d) per attention layer (see the file comment).
 */
export class LongForward {
  readonly #config: ModelConfig;
  readonly #w: ModelWeightsOf<Float32Array>;
  readonly #b: number;
  readonly #length: number;
  readonly #V: Float32Array; // [K, d]
  readonly #layers: StreamLayer[];
  /** The residual stream entering the last layer, at the newest position [b, d]. */
  readonly #xLast: Float32Array;
  #l = 0;

  constructor(w: StreamWeights, b: number, length: number) {
    const c = w.config;
    if (c.pe === "learned" && length > c.maxLen) {
      throw new Error(`length ${length} exceeds the position table (${c.maxLen} rows)`);
    }
    this.#config = c;
    this.#w = arraysByLayer(w);
    this.#b = b;
    this.#length = length;
    this.#V = embedding(c.K, c.d);
    this.#layers = this.#w.layers.map((layer) =>
      layer.kind === "mamba"
        ? new MambaStreamLayer(c, layer.mixer, b)
        : new AttentionStreamLayer(c, layer.mixer, b, length)
    );
    this.#xLast = new Float32Array(b * c.d);
  }

  /** Positions fed so far. */
  get position(): number {
    return this.#l;
  }

  /** Feed the next c tokens of every sequence: tokens [b, c]. */
  push(tokens: Int32Array, c: number): void {
    const { d, K } = this.#config;
    const b = this.#b;
    if (tokens.length !== b * c) throw new Error(`tokens has ${tokens.length} entries, expected ${b}x${c}`);
    if (this.#l + c > this.#length) throw new Error(`${this.#l + c} positions pushed, sized for ${this.#length}`);
    const x = new Float32Array(b * c * d); // [b, c, d]
    for (let i = 0; i < b * c; i++) {
      const tok = tokens[i];
      if (!(tok >= 0 && tok < K)) throw new Error(`token ${tok} is not in 0..${K - 1}`);
      x.set(this.#V.subarray(tok * d, tok * d + d), i * d);
    }
    const pos = this.#w.pos; // [P, d], learned positions only
    if (pos) {
      for (let bi = 0; bi < b; bi++) {
        for (let t = 0; t < c; t++) {
          const row = (bi * c + t) * d, p = (this.#l + t) * d;
          for (let j = 0; j < d; j++) x[row + j] = x[row + j] + pos[p + j];
        }
      }
    }
    const last = this.#layers.length - 1;
    this.#layers.forEach((layer, i) => {
      const { gain, bias } = this.#w.layers[i].norm;
      const xn = normRows(x, gain, bias, b * c, d); // [b, c, d]
      if (i === last) {
        for (let bi = 0; bi < b; bi++) this.#xLast.set(x.subarray(((bi + 1) * c - 1) * d, (bi + 1) * c * d), bi * d);
        layer.push(xn, c, true);
        return;
      }
      const out = layer.push(xn, c, false)!; // [b, c, d]
      for (let j = 0; j < x.length; j++) x[j] += out[j];
    });
    this.#l += c;
  }

  /** Logits [b, K] at the newest position: the last layer there, the final LayerNorm and the readout. */
  logits(): Float32Array {
    if (this.#l === 0) throw new Error("logits before any token was pushed");
    const { d, K } = this.#config;
    const b = this.#b;
    const out = this.#layers[this.#layers.length - 1].lastOutput(); // [b, d]
    const x = new Float32Array(b * d);
    for (let i = 0; i < b * d; i++) x[i] = this.#xLast[i] + out[i];
    const xn = normRows(x, this.#w.finalNorm.gain, this.#w.finalNorm.bias, b, d); // [b, d]
    const logits = matMulRows(xn, this.#w.readout.w, b, d, K); // [b, K]
    const rb = this.#w.readout.b;
    for (let i = 0; i < b; i++) for (let j = 0; j < K; j++) logits[i * K + j] += rb[j];
    return logits;
  }
}
