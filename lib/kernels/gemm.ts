/**
 * Matrix products as WebAssembly SIMD kernels that give tfjs-wasm's `tf.matMul` (XNNPACK) results bit for bit,
 * for fused ops that keep their operands in kernel memory (the Mamba block at d > 16, lib/models/mamba_core.ts).
 *
 * Why bit for bit: XNNPACK's wasm SIMD GEMM sums each output's products one reduction step at a time, in order,
 * from zero, multiplying and then adding (no fused multiply-add): c = fl(c + fl(a b)). These kernels do exactly
 * that, so a product moved from `linear` (tf.matMul) into a kernel changes no result (tests/gemm_test.ts
 * compares every element's bits with tf.matMul). Products whose reduction runs over rows (x^T dy, the weight
 * gradients) need no transposed copy: the kernel reads both operands row by row.
 *
 * Shape of a kernel: C [P, Q] row-major, C[p, q] = sum over t < T of A(p, t) B(t, q), where A(p, t) is the
 * float at a + p aRow + t aStep and B(t, q) the float at b + t bStep + 4 q (byte offsets). So
 *   "nn" (C = A B,   A [P, T], B [T, Q]): aRow = 4 T, aStep = 4,     bStep = 4 Q;
 *   "tn" (C = A^T B, A [T, P], B [T, Q]): aRow = 4,   aStep = 4 P,   bStep = 4 Q.
 * The output is tiled mr rows by 4 nv columns, the tile's mr nv accumulator vectors in registers; each step t
 * loads nv vectors of B and mr splats of A. The reduction is cut into chunks of `tChunk` steps (each chunk
 * sweeps all tiles, continuing the sums stored in C): a long reduction (T = b l rows) then streams a chunk of
 * both operands from cache instead of memory once per tile. The sums' order is the same either way.
 *
 * Glossary: P output rows (runtime), Q output columns (fixed, a multiple of 4), T reduction length.
 */
import {
  type Code,
  forUp,
  I32,
  iAdd,
  iConst,
  iMul,
  Locals,
  seq,
  unroll,
  V128,
  vAdd,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vStore,
  type WasmFunction,
} from "./assembler.ts";

/**
 * What a kernel does with C: "write" C = the sums; "add" C = C + the sums (each sum formed from zero first:
 * the rounding of tf.add after a matMul); "continue" the sums start from C's values (C zeroed by the caller:
 * the same sums as "write", in chunks).
 */
export type GemmMode = "write" | "add" | "continue";

/** One product's layout, fixed when the kernel is generated (byte strides; see the file's doc). */
export interface GemmLayout {
  readonly name: string;
  readonly aRow: number;
  readonly aStep: number;
  readonly bStep: number;
  /** Output columns Q (a multiple of 4). */
  readonly cols: number;
  readonly mode: GemmMode;
  /** Reduction steps per sweep over the output tiles (default: all T in one sweep). */
  readonly tChunk?: number;
  /** Tile rows (default 4) and tile column vectors (default 2: 8 columns). */
  readonly mr?: number;
  readonly nv?: number;
  /**
   * Multiply-adds fused where the engine allows (`vMadd`, the arithmetic of the Mamba core's other kernels)
   * instead of tf.matMul's multiply then add. Default false.
   */
  readonly fused?: boolean;
}

/**
 * The kernel for one layout. Params: a, b, c (byte offsets), P (output rows), T (reduction length). Rows beyond
 * the last full tile of mr run one at a time; columns beyond the last full 4 nv, four at a time.
 */
export function gemmKernel(o: GemmLayout): WasmFunction {
  const mr = o.mr ?? 4, nv = o.nv ?? 2;
  if (o.cols % 4 !== 0 || o.cols <= 0) {
    throw new Error(`gemm ${o.name}: columns must be a multiple of 4, got ${o.cols}`);
  }
  if (o.mode !== "continue" && o.tChunk !== undefined) {
    throw new Error(`gemm ${o.name}: a chunked reduction needs mode "continue"`);
  }
  const cRow = 4 * o.cols;
  const L = new Locals(["a", "b", "c", "P", "T"]);
  for (const name of ["p", "q", "t", "aP", "bP", "cP", "t0", "t1", "pEnd"]) L.declare(name, I32);
  for (let v = 0; v < nv; v++) L.declare(`b${v}`, V128);
  for (let r = 0; r < mr; r++) for (let v = 0; v < nv; v++) L.declare(`acc${r}_${v}`, V128);

  /** One tile of rows x vecs vectors at (p, q): start, reduce over [t0, t1), finish. */
  const tile = (rows: number, vecs: number): number[] => {
    const each = (f: (r: number, v: number) => Code): number[] => unroll(rows, (r) => unroll(vecs, (v) => f(r, v)));
    const start = o.mode === "continue"
      ? each((r, v) => L.set(`acc${r}_${v}`, vLoad(L.get("cP"), r * cRow + 16 * v)))
      : each((r, v) => L.set(`acc${r}_${v}`, L.splat(0)));
    const step = seq(
      unroll(vecs, (v) => L.set(`b${v}`, vLoad(L.get("bP"), 16 * v))),
      each((r, v) => {
        const a = vLoadSplat(L.get("aP"), r * o.aRow);
        return L.set(
          `acc${r}_${v}`,
          o.fused
            ? vMadd(a, L.get(`b${v}`), L.get(`acc${r}_${v}`))
            : vAdd(L.get(`acc${r}_${v}`), vMul(a, L.get(`b${v}`))),
        );
      }),
      L.set("aP", iAdd(L.get("aP"), iConst(o.aStep))),
      L.set("bP", iAdd(L.get("bP"), iConst(o.bStep))),
    );
    const finish = o.mode === "add"
      ? each((r, v) =>
        vStore(L.get("cP"), vAdd(vLoad(L.get("cP"), r * cRow + 16 * v), L.get(`acc${r}_${v}`)), r * cRow + 16 * v)
      )
      : each((r, v) => vStore(L.get("cP"), L.get(`acc${r}_${v}`), r * cRow + 16 * v));
    return seq(
      L.set("cP", iAdd(L.get("c"), iAdd(iMul(L.get("p"), iConst(cRow)), iMul(L.get("q"), iConst(4))))),
      start,
      L.set("aP", iAdd(L.get("a"), iAdd(iMul(L.get("p"), iConst(o.aRow)), iMul(L.get("t0"), iConst(o.aStep))))),
      L.set("bP", iAdd(L.get("b"), iAdd(iMul(L.get("q"), iConst(4)), iMul(L.get("t0"), iConst(o.bStep))))),
      forUp(L, "t", L.get("t0"), L.get("t1"), 1, step),
      finish,
    );
  };
  const fullCols = Math.floor(o.cols / (4 * nv)) * 4 * nv;
  /** Tiles of `rows` rows across all columns at the current p: full 4 nv wide, then 4 wide. */
  const rowOfTiles = (rows: number): number[] =>
    seq(
      fullCols > 0 ? forUp(L, "q", iConst(0), iConst(fullCols), 4 * nv, tile(rows, nv)) : [],
      fullCols < o.cols ? forUp(L, "q", iConst(fullCols), iConst(o.cols), 4, tile(rows, 1)) : [],
    );
  const sweep = seq(
    // pEnd = P - P % mr: full tiles of mr rows, then the remaining rows one at a time
    L.set("pEnd", iMul(seq(L.get("P"), iConst(mr), [0x6d]), iConst(mr))), // i32.div_s
    forUp(L, "p", iConst(0), L.get("pEnd"), mr, rowOfTiles(mr)),
    forUp(L, "p", L.get("pEnd"), L.get("P"), 1, rowOfTiles(1)),
  );
  if (o.tChunk === undefined) {
    return { name: o.name, locals: L, body: seq(L.set("t0", iConst(0)), L.set("t1", L.get("T")), sweep) };
  }
  // for (t0 = 0; t0 < T; t0 = t1) { t1 = min(t0 + tChunk, T); sweep }
  const body = seq(
    L.set("t0", iConst(0)),
    [0x02, 0x40, 0x03, 0x40], // block, loop
    L.get("t0"),
    L.get("T"),
    [0x4e, 0x0d, 1], // i32.ge_s, br_if 1 (leave)
    L.set("t1", iAdd(L.get("t0"), iConst(o.tChunk))),
    L.set("t1", seq(L.get("t1"), L.get("T"), L.get("t1"), L.get("T"), [0x48, 0x1b])), // lt_s, select: min
    sweep,
    L.set("t0", L.get("t1")),
    [0x0c, 0, 0x0b, 0x0b], // br 0 (repeat), end loop, end block
  );
  return { name: o.name, locals: L, body };
}

/**
 * Layout of C [P, Q] = A [P, T] B [T, Q] with the reduction length T fixed (row-major operands). Tiles of 5 x 8:
 * at [4096, 64] x [64, 128] and [4096, 128] x [128, 64] they measured 1.5 ms (min of 40) against 1.6 for 4 x 8,
 * 1.5-1.6 for 2 x 16, 2.1-2.2 for 6 x 8 (twelve accumulators spill) and 1.7 for tf.matMul
 * (bench/gemm_bench.ts, on this project's shared 2-core machine).
 */
export function nnLayout(name: string, t: number, q: number, mode: "write" | "add"): GemmLayout {
  return { name, aRow: 4 * t, aStep: 4, bStep: 4 * q, cols: q, mode, mr: 5, nv: 2 };
}

/**
 * Reduction rows per sweep of a "tn" product (A and B chunks of 512 rows: 384 KB at P + Q = 192 floats, within
 * a core's L2). Tiles of 4 x 8: [4096, 64]^T x [4096, 128] and [4096, 128]^T x [4096, 64] took 1.6-1.8 ms
 * (bench/gemm_bench.ts; 2 x 16 and chunks of 256 or 1024 within the noise of it), tf.matMul 1.7-1.9 given an
 * already transposed A, 3.5 ms inside a training step where XNNPACK repacks a fresh right-hand side.
 */
export const TN_CHUNK = 512;

/** Layout of C [P, Q] = A [T, P]^T B [T, Q] with P fixed, T (rows) at run time; C must be zeroed first. */
export function tnLayout(name: string, p: number, q: number): GemmLayout {
  return { name, aRow: 4, aStep: 4 * p, bStep: 4 * q, cols: q, mode: "continue", tChunk: TN_CHUNK };
}
