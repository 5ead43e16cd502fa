/**
 * WebAssembly SIMD kernels for the Mamba core (see mamba_core.ts): the selective scan, forward and backward,
 * and the steps around it (causal conv + SiLU, x_proj, dt_proj + softplus, the SiLU(z) gate).
 *
 * Why not plain JS: the scan needs exp(delta * A) for every (b, t, c, s), and V8's `Math.exp` costs ~19 ns
 * here (a scalar polynomial ~7 ns); at b = l = 64, e = 128, n = 16 a JS forward scan alone took ~110 ms, and
 * the element-wise steps (softplus, sigmoids) another ~65 ms. These kernels run four float32 lanes at once
 * with a vectorised exp (`vExp`) and keep the scan state in registers. They are emitted as WebAssembly bytes
 * by the small assembler in lib/kernels/assembler.ts when first used (no build step, no dependency), specialised
 * to the state size n, the dt rank r and the conv width w, and run on typed-array views of the module's own
 * memory (`reserve`, `view`, `copyOut` there).
 * Multiply-adds use relaxed SIMD's f32x4.relaxed_madd when the engine has it (fused on FMA hardware, so the
 * last bits of results may differ between machines; runs on one machine are deterministic).
 *
 * Scan recurrence, per batch row b and channel c, with h[-1] = 0:
 *   h[t, s] = exp(delta[t, c] A[c, s]) h[t - 1, s] + delta[t, c] u[t, c] B[t, s]
 *   y[t, c] = sum_s h[t, s] C[t, s] + D[c] u[t, c]
 * The backward kernel recomputes h for one (b, c) at a time into a small buffer, then walks t backwards.
 *
 * Glossary: b batch, l length, e inner dim (channels c), n state dim (s), r dt rank, m = b l rows,
 * R = r + 2n x_proj width, P = R rounded up to a multiple of 4 (row stride of x_proj outputs, zero padded).
 * Layouts are row-major: [m, e] arrays (x, z, u, delta, y, ...), xdbl [m, P] = [dtLow | B | C | 0...].
 * The row kernels vectorise over channels, so e must be a multiple of 4; the scan over s needs n % 4 == 0.
 */

import {
  at,
  bytesOf,
  type Code,
  copyOut,
  currentOffsetMode,
  F32,
  fAdd,
  fLoad,
  fMul,
  forDown,
  forUp,
  fStore,
  I32,
  iAdd,
  iConst,
  ifThen,
  iMul,
  instantiate,
  iSub,
  type Kernel,
  Locals,
  reserve,
  seq,
  unroll,
  V128,
  vAccumulate,
  vAdd,
  vAnd,
  vExp,
  vExpKernel,
  view,
  vLane,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vSigmoid,
  vSiluSlope,
  vSoftplus,
  vSplat,
  vStore,
  vSum,
  vSumPair,
  type WasmFunction,
} from "./assembler.ts";
import { gemmKernel, type GemmLayout, type GemmMode, nnLayout, tnLayout } from "./gemm.ts";

// ---------------------------------------------------------------------------------------------------------
// Scan kernels. Pointers and strides are byte offsets into the module memory.

const SCAN_PARAMS = [
  "delta", // [b, l, e]
  "u", // [b, l, e]
  "bm", // B[m, s] at bm + m * rowStride + 4 s
  "cm", // C[m, s] at cm + m * rowStride + 4 s
  "a", // A [e, n]
  "dSkip", // D [e]
  "batch",
  "len",
  "e",
  "rowStride",
] as const;

function scanLocals(params: readonly string[], nv: number): Locals {
  const L = new Locals(params);
  for (const name of ["bi", "c", "t", "elem", "rowOff", "eStride"]) L.declare(name, I32);
  for (const name of ["dt", "uu", "dSkipC"]) L.declare(name, F32);
  for (const name of ["dtv", "duv", "acc", "dA"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) {
    L.declare(`a${v}`, V128);
    L.declare(`h${v}`, V128);
  }
  return L;
}

/** Per-(b, c) set-up: pointers to row t = 0 of batch row bi, D[c], and A[c, :] in registers. */
function channelStart(L: Locals, nv: number): number[] {
  const m0 = iMul(L.get("bi"), L.get("len"));
  return seq(
    L.set("elem", iMul(iAdd(iMul(m0, L.get("e")), L.get("c")), iConst(4))), // 4 (m0 e + c)
    L.set("rowOff", iMul(m0, L.get("rowStride"))),
    L.set("dSkipC", fLoad(iAdd(L.get("dSkip"), iMul(L.get("c"), iConst(4))))),
    unroll(nv, (v) => L.set(`a${v}`, vLoad(iAdd(L.get("a"), iMul(L.get("c"), iConst(16 * nv))), 16 * v))),
  );
}

/** `for bi < batch: for c < e: perChannel` */
function forEachChannel(L: Locals, perChannel: Code): number[] {
  return seq(
    L.set("eStride", iMul(L.get("e"), iConst(4))),
    forUp(L, "bi", iConst(0), L.get("batch"), 1, forUp(L, "c", iConst(0), L.get("e"), 1, perChannel)),
  );
}

/** Load delta, u at the current (b, t, c) into dt, uu and their splats dtv, duv = dt u. */
function loadStep(L: Locals): number[] {
  return seq(
    L.set("dt", fLoad(iAdd(L.get("delta"), L.get("elem")))),
    L.set("uu", fLoad(iAdd(L.get("u"), L.get("elem")))),
    L.set("dtv", vSplat(L.get("dt"))),
    L.set("duv", vSplat(fMul(L.get("dt"), L.get("uu")))),
  );
}

/**
 * h = exp(dt A) h + dt u B for the nv state vectors h0.. (exp(dt A) left in the local dA), then
 * `perVector(v)`, all unrolled over v. With `storedDA`, exp(dt A) is loaded from the row at local dARow
 * (written by a forward pass) instead of computed: the same values, so the same h bit for bit.
 */
function recurrenceStep(L: Locals, nv: number, perVector: (v: number) => Code, storedDA = false): number[] {
  return unroll(nv, (v) =>
    seq(
      storedDA
        ? L.set("dA", vLoad(L.get("dARow"), 16 * v))
        : L.set("dA", vExp(L, vMul(L.get("dtv"), L.get(`a${v}`)), true)), // delta > 0, A < 0
      L.set(
        `h${v}`,
        vMadd(L.get("dA"), L.get(`h${v}`), vMul(L.get("duv"), vLoad(iAdd(L.get("bm"), L.get("rowOff")), 16 * v))),
      ),
      perVector(v),
    ));
}

/** Move the (b, t, c) pointers one time step forward (+1) or backward (-1). */
function stepPointers(L: Locals, dir: 1 | -1): number[] {
  const step = dir === 1 ? iAdd : iSub;
  return seq(
    L.set("elem", step(L.get("elem"), L.get("eStride"))),
    L.set("rowOff", step(L.get("rowOff"), L.get("rowStride"))),
  );
}

/** Byte offset of channel (bi, c)'s [l, n] block in a [b, e, l, n] array at `base` (rowBytes = 4 n). */
function channelBlock(L: Locals, base: string, rowBytes: number): number[] {
  return iAdd(
    L.get(base),
    iMul(iMul(iAdd(iMul(L.get("bi"), L.get("e")), L.get("c")), L.get("len")), iConst(rowBytes)),
  );
}

/**
 * y[b, t, c] = sum_s h[t, s] C[t, s] + D[c] u[t, c]. Params: SCAN_PARAMS, then y, then expAt: with `keep`
 * ("scan_forward_keep") the [b, e, l, n] table where every exp(dt A) is written for the backward, else scratch for
 * one channel's [l, n] exponentials. With `last` ("..._last") y is [b, e], the last position only: the earlier
 * steps update the state and skip the C . h sums (their values are the full kernel's bit for bit).
 *
 * Each (b, c) runs in two passes: first all its exp(dt A) into its [l, n] block (steps independent of each
 * other, so the exponentials' long dependency chains overlap freely), then the recurrence and y, reading them
 * back from that block (4 KB at n = 16, in L1). The same operations on the same values as one pass doing both
 * (the kernel before 2026-12-02), so the same bits; at d = 8, B = L = 64 the keeping forward measured 0.730 ->
 * 0.715 ms (min of 170 alternated calls, median 0.788 -> 0.755), its last-position form 0.633 -> 0.617.
 */
function scanForwardKernel(n: number, keep = false, last = false): WasmFunction {
  const nv = n / 4;
  const rowBytes = 16 * nv;
  const L = scanLocals([...SCAN_PARAMS, "y", "expAt"], nv);
  L.declare("dARow", I32);
  L.declare("block", I32);
  const expStep = seq(
    L.set("dtv", vLoadSplat(iAdd(L.get("delta"), L.get("elem")))),
    unroll(nv, (v) => vStore(L.get("dARow"), vExp(L, vMul(L.get("dtv"), L.get(`a${v}`)), true), 16 * v)), // dt > 0, A < 0
    L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
    L.set("elem", iAdd(L.get("elem"), L.get("eStride"))),
  );
  /** One step of the recurrence; `withY`: also y at this step, stored at yAt. */
  const step = (withY: boolean, yAt: () => number[]): number[] =>
    seq(
      loadStep(L),
      withY ? L.set("acc", L.splat(0)) : [],
      unroll(nv, (v) =>
        seq(
          L.set(
            `h${v}`,
            vMadd(
              vLoad(L.get("dARow"), 16 * v),
              L.get(`h${v}`),
              vMul(L.get("duv"), vLoad(iAdd(L.get("bm"), L.get("rowOff")), 16 * v)),
            ),
          ),
          withY
            ? L.set("acc", vMadd(L.get(`h${v}`), vLoad(iAdd(L.get("cm"), L.get("rowOff")), 16 * v), L.get("acc")))
            : [],
        )),
      withY ? fStore(yAt(), fAdd(vSum(L, "acc"), fMul(L.get("dSkipC"), L.get("uu")))) : [],
      L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
      stepPointers(L, 1),
    );
  const yFull = (): number[] => iAdd(L.get("y"), L.get("elem"));
  const yLast = (): number[] => iAdd(L.get("y"), iMul(iAdd(iMul(L.get("bi"), L.get("e")), L.get("c")), iConst(4)));
  const perChannel = seq(
    channelStart(L, nv),
    L.set("block", keep ? channelBlock(L, "expAt", rowBytes) : L.get("expAt")),
    L.set("dARow", L.get("block")),
    forUp(L, "t", iConst(0), L.get("len"), 1, expStep),
    channelStart(L, nv), // back to t = 0
    L.set("dARow", L.get("block")),
    unroll(nv, (v) => L.set(`h${v}`, L.splat(0))),
    last
      ? seq(forUp(L, "t", iConst(1), L.get("len"), 1, step(false, yFull)), step(true, yLast))
      : forUp(L, "t", iConst(0), L.get("len"), 1, step(true, yFull)),
  );
  const name = (keep ? "scan_forward_keep" : "scan_forward") + (last ? "_last" : "");
  return { name, locals: L, body: forEachChannel(L, perChannel) };
}

/**
 * Gradients of sum(y * dy). Params: SCAN_PARAMS, then dy [b, l, e]; dDelta, dU [b, l, e] (written; dU
 * includes the D skip); dbm, dcm: dB and dC laid out like B and C (accumulated); dAOut [e, n] and
 * dDOut [e] (accumulated); scratch for one (b, c): hist [(l + 1) n] with row 0 zero, dAHist [l n]. With
 * `stored` ("scan_backward_stored") also dAStore: the exp(dt A) of "scan_forward_keep", read instead of
 * recomputed (dAHist is then unused): the same numbers without the exponentials. With `last` ("..._last") dy is
 * [b, e], the gradient at the last position, zero before it: the earlier steps skip every term with dy (each an
 * exact +-0, so the gradients are the full kernel's given that dy).
 */
function scanBackwardKernel(n: number, stored = false, last = false): WasmFunction {
  const nv = n / 4;
  const rowBytes = 16 * nv;
  const L = scanLocals(
    [
      ...SCAN_PARAMS,
      "dy",
      "dDelta",
      "dU",
      "dbm",
      "dcm",
      "dAOut",
      "dDOut",
      "hist",
      "dAHist",
      ...(stored ? ["dAStore"] : []),
    ],
    nv,
  );
  for (const name of ["hRow", "dARow"]) L.declare(name, I32);
  for (const name of ["dyy", "ddu", "dDAcc"]) L.declare(name, F32);
  for (const name of ["g", "dyv", "dduAcc", "gAcc", "sums"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) {
    L.declare(`dh${v}`, V128);
    L.declare(`gA${v}`, V128);
  }

  // Phase 1, t ascending: h[t] into hist row t + 1, exp(dt A) into dAHist row t (or read from dAStore).
  const forwardStep = seq(
    loadStep(L),
    recurrenceStep(L, nv, (v) =>
      seq(
        vStore(L.get("hRow"), L.get(`h${v}`), rowBytes + 16 * v),
        stored ? [] : vStore(L.get("dARow"), L.get("dA"), 16 * v),
      ), stored),
    L.set("hRow", iAdd(L.get("hRow"), iConst(rowBytes))),
    L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
    stepPointers(L, 1),
  );

  // Phase 2, t descending. dh carries d(loss)/dh[t] from later steps; hNow holds h[t] (the previous step's
  // h[t - 1]: each row of hist is loaded once). With the stored table, each step also loads a row of the next
  // channel's block (into pfAcc, never used), so that block is in cache when the next channel's phase 1 reads
  // it: the hardware prefetcher stops at page boundaries, and at d = 8 every channel's block is one 4 KB page.
  for (let v = 0; v < nv; v++) L.declare(`hNow${v}`, V128);
  if (stored) {
    L.declare("pf", I32);
    L.declare("pfAcc", V128);
  }
  const rowAt = (base: string): number[] => iAdd(L.get(base), L.get("rowOff"));
  const backwardVector = (withDy: boolean) => (v: number): number[] =>
    seq(
      withDy
        ? seq(
          // dC[t] += dy h[t]; dh += dy C[t]
          vAccumulate(rowAt("dcm"), L.get("dyv"), L.get(`hNow${v}`), 16 * v),
          L.set(`dh${v}`, vMadd(L.get("dyv"), vLoad(rowAt("cm"), 16 * v), L.get(`dh${v}`))),
        )
        : [],
      // dB[t] += dh dt u; d(dt u) += dh . B[t]
      vAccumulate(rowAt("dbm"), L.get(`dh${v}`), L.get("duv"), 16 * v),
      L.set("dduAcc", vMadd(L.get(`dh${v}`), vLoad(rowAt("bm"), 16 * v), L.get("dduAcc"))),
      // g = dh h[t - 1] exp(dt A), the gradient of the exponent dt A
      L.set("dA", vLoad(L.get("dARow"), 16 * v)),
      L.set(`hNow${v}`, vLoad(L.get("hRow"), 16 * v)), // h[t - 1], the next step's h[t]
      L.set("g", vMul(vMul(L.get(`dh${v}`), L.get(`hNow${v}`)), L.get("dA"))),
      L.set("gAcc", vMadd(L.get("g"), L.get(`a${v}`), L.get("gAcc"))),
      L.set(`gA${v}`, vMadd(L.get("g"), L.get("dtv"), L.get(`gA${v}`))),
      // carry dh to t - 1
      L.set(`dh${v}`, vMul(L.get(`dh${v}`), L.get("dA"))),
    );
  /** One step back in time; `dyAt`: where dy[t] is, or undefined where it is zero. */
  const backwardStep = (dyAt: (() => number[]) | undefined): number[] =>
    seq(
      stored
        ? seq(
          L.set("pfAcc", vAnd(L.get("pfAcc"), vLoad(L.get("pf")))),
          L.set("pf", iAdd(L.get("pf"), iConst(rowBytes))),
        )
        : [],
      stepPointers(L, -1),
      L.set("hRow", iSub(L.get("hRow"), iConst(rowBytes))),
      L.set("dARow", iSub(L.get("dARow"), iConst(rowBytes))),
      loadStep(L),
      dyAt ? seq(L.set("dyy", fLoad(dyAt())), L.set("dyv", vSplat(L.get("dyy")))) : [],
      L.set("dduAcc", L.splat(0)),
      L.set("gAcc", L.splat(0)),
      unroll(nv, backwardVector(dyAt !== undefined)),
      vSumPair(L, "dduAcc", "gAcc", "sums"), // lane 0: sum(dduAcc), lane 2: sum(gAcc)
      L.set("ddu", vLane(L.get("sums"), 0)),
      fStore(iAdd(L.get("dDelta"), L.get("elem")), fAdd(vLane(L.get("sums"), 2), fMul(L.get("ddu"), L.get("uu")))),
      fStore(
        iAdd(L.get("dU"), L.get("elem")),
        dyAt
          ? fAdd(fMul(L.get("ddu"), L.get("dt")), fMul(L.get("dyy"), L.get("dSkipC")))
          : fMul(L.get("ddu"), L.get("dt")),
      ),
      dyAt ? L.set("dDAcc", fAdd(L.get("dDAcc"), fMul(L.get("dyy"), L.get("uu")))) : [],
    );
  const dyFull = (): number[] => iAdd(L.get("dy"), L.get("elem"));
  const dyLast = (): number[] => iAdd(L.get("dy"), iMul(iAdd(iMul(L.get("bi"), L.get("e")), L.get("c")), iConst(4)));

  const aRow = iAdd(L.get("dAOut"), iMul(L.get("c"), iConst(rowBytes)));
  const dDAt = iAdd(L.get("dDOut"), iMul(L.get("c"), iConst(4)));
  const blockBytes = iMul(L.get("len"), iConst(rowBytes));
  const lastChannel = seq(
    iAdd(iAdd(iMul(L.get("bi"), L.get("e")), L.get("c")), iConst(1)),
    iMul(L.get("batch"), L.get("e")),
    [0x46],
  ); // eq
  const perChannel = seq(
    channelStart(L, nv),
    unroll(nv, (v) => seq(L.set(`h${v}`, L.splat(0)), L.set(`dh${v}`, L.splat(0)), L.set(`gA${v}`, L.splat(0)))),
    L.set("hRow", L.get("hist")),
    L.set("dARow", stored ? channelBlock(L, "dAStore", rowBytes) : L.get("dAHist")),
    forUp(L, "t", iConst(0), L.get("len"), 1, forwardStep),
    // the pointers now sit one step past the end; each backward step moves back first. In the stored table
    // dARow is now the next channel's block, except after the last channel (then prefetch this block again).
    stored ? L.set("pf", seq(iSub(L.get("dARow"), blockBytes), L.get("dARow"), lastChannel, [0x1b])) : [], // select
    unroll(nv, (v) => L.set(`hNow${v}`, vLoad(L.get("hRow"), 16 * v))), // h[len - 1]
    L.set("dDAcc", [0x43, ...bytesOf(0, "f32")]),
    last
      ? seq(backwardStep(dyLast), forDown(L, "t", iSub(L.get("len"), iConst(1)), iConst(0), backwardStep(undefined)))
      : forDown(L, "t", L.get("len"), iConst(0), backwardStep(dyFull)),
    unroll(nv, (v) => vStore(aRow, vAdd(vLoad(aRow, 16 * v), L.get(`gA${v}`)), 16 * v)),
    fStore(dDAt, fAdd(fLoad(dDAt), L.get("dDAcc"))),
    // keeps the prefetching loads alive: dAHist is unused scratch when the table is stored
    stored ? vStore(L.get("dAHist"), L.get("pfAcc")) : [],
  );
  const name = (stored ? "scan_backward_stored" : "scan_backward") + (last ? "_last" : "");
  return { name, locals: L, body: forEachChannel(L, perChannel) };
}

// ---------------------------------------------------------------------------------------------------------
// Row kernels: the steps around the scan, over [m, e] rows. "row" is the byte offset of row mi of an
// [m, e] array (mi * eB, eB = 4e); "c" walks the channels of a row in bytes, 16 (four channels) at a time.

function rowLocals(params: readonly string[]): Locals {
  const L = new Locals(params);
  for (const name of ["mi", "eB", "row", "c"]) L.declare(name, I32);
  return L;
}

/** `for (mi = 0; mi < rows; mi++) { row = mi * eB; body }`, with eB = 4e set first. */
function rowLoop(L: Locals, rows: Code, body: Code): number[] {
  return seq(
    L.set("eB", iMul(L.get("e"), iConst(4))),
    forUp(L, "mi", iConst(0), rows, 1, seq(L.set("row", iMul(L.get("mi"), L.get("eB"))), body)),
  );
}

/** `for (c = 0; c < eB; c += step) body` (step 16: four channels; step 4: one channel). */
function channelLoop(L: Locals, body: Code, step = 16): number[] {
  return forUp(L, "c", iConst(0), L.get("eB"), step, body);
}

/**
 * The conv's row bookkeeping, for a width w fixed at generation: "t" = time step of row mi (kept by counting,
 * wrapping at len), "xRow" = x + row + c, and per call "back{j}" = j eB (x[t - j] is at xRow - back{j}) and
 * "wTap{k}" = convWT + k eB (row k of the transposed weights).
 */
function convLocals(params: readonly string[], w: number): Locals {
  const L = rowLocals(params);
  for (const name of ["t", "xRow"]) L.declare(name, I32);
  for (let k = 0; k < w; k++) {
    L.declare(`back${k}`, I32);
    L.declare(`wTap${k}`, I32);
  }
  return L;
}

function convSetup(L: Locals, w: number): number[] {
  return seq(
    L.set("eB", iMul(L.get("e"), iConst(4))),
    L.set("t", iConst(0)),
    unroll(w, (k) =>
      seq(
        L.set(`back${k}`, iMul(L.get("eB"), iConst(k))),
        L.set(`wTap${k}`, iAdd(L.get("convWT"), iMul(L.get("eB"), iConst(k)))),
      )),
  );
}

/** After a row: t = t + 1, back to 0 at len. */
function convNextRow(L: Locals): number[] {
  return seq(
    L.set("t", iAdd(L.get("t"), iConst(1))),
    L.set("t", seq(iConst(0), L.get("t"), L.get("t"), L.get("len"), [0x46, 0x1b])), // eq, select
  );
}

/**
 * `body(k)` for each tap k of the conv at output time t, reading x[t - (w - 1 - k)]: taps before the start of
 * the sequence (t < w - 1 - k) are skipped.
 */
function convTaps(L: Locals, w: number, body: (k: number) => Code): number[] {
  return unroll(w, (k) => {
    const lag = w - 1 - k;
    return lag === 0 ? [...body(k)] : ifThen(seq(L.get("t"), iConst(lag), [0x4e]), body(k)); // ge_s
  });
}

/** Byte address of x[t - (w - 1 - k), c] (or of the same element in another [m, e] array, from its base). */
function tapAt(L: Locals, w: number, k: number, base = "xRow"): number[] {
  return iSub(L.get(base), L.get(`back${w - 1 - k}`));
}

/**
 * Causal depthwise conv + SiLU: xc[b, t, c] = convB[c] + sum_k convWT[k, c] x[b, t - w + 1 + k, c] (zero
 * before t = 0), u = xc sigmoid(xc). Params: x, convWT [w, e], convB, xc, u, batch, len, e.
 */
function convSiluKernel(w: number): WasmFunction {
  const L = convLocals(["x", "convWT", "convB", "xc", "u", "batch", "len", "e"], w);
  L.declare("acc", V128);
  const perChannel = seq(
    L.set("xRow", at(L, "x", "row", "c")),
    L.set("acc", vLoad(at(L, "convB", "c"))),
    convTaps(L, w, (k) => L.set("acc", vMadd(vLoad(at(L, `wTap${k}`, "c")), vLoad(tapAt(L, w, k)), L.get("acc")))),
    vStore(at(L, "xc", "row", "c"), L.get("acc")),
    vStore(at(L, "u", "row", "c"), vMul(L.get("acc"), vSigmoid(L, "acc"))),
  );
  const body = seq(
    convSetup(L, w),
    rowLoop(L, iMul(L.get("batch"), L.get("len")), seq(channelLoop(L, perChannel), convNextRow(L))),
  );
  return { name: "conv_silu", locals: L, body };
}

/**
 * Gradients of the conv + SiLU. du is overwritten by d(xc); dx, dConvWT [w, e] and dConvB are accumulated.
 * Params: du, xc, x, convWT, dx, dConvWT, dConvB, batch, len, e.
 */
function convSiluBackwardKernel(w: number): WasmFunction {
  const L = convLocals(["du", "xc", "x", "convWT", "dx", "dConvWT", "dConvB", "batch", "len", "e"], w);
  for (const name of ["dxRow", "dwOff"]) L.declare(name, I32);
  for (const name of ["xv", "sg", "g"]) L.declare(name, V128);
  const perTap = (k: number): number[] =>
    seq(
      L.set("dwOff", iAdd(L.get("dConvWT"), iAdd(L.get("c"), L.get(`back${k}`)))), // dConvWT[k, c]
      vAccumulate(L.get("dwOff"), L.get("g"), vLoad(tapAt(L, w, k))),
      vAccumulate(tapAt(L, w, k, "dxRow"), L.get("g"), vLoad(at(L, `wTap${k}`, "c"))),
    );
  const perChannel = seq(
    L.set("xRow", at(L, "x", "row", "c")),
    L.set("dxRow", at(L, "dx", "row", "c")),
    L.set("xv", vLoad(at(L, "xc", "row", "c"))),
    L.set("sg", vSigmoid(L, "xv")),
    L.set("g", vMul(vLoad(at(L, "du", "row", "c")), vSiluSlope(L, "xv", "sg"))),
    vStore(at(L, "du", "row", "c"), L.get("g")),
    vStore(at(L, "dConvB", "c"), vAdd(vLoad(at(L, "dConvB", "c")), L.get("g"))),
    convTaps(L, w, perTap),
  );
  const body = seq(
    convSetup(L, w),
    rowLoop(L, iMul(L.get("batch"), L.get("len")), seq(channelLoop(L, perChannel), convNextRow(L))),
  );
  return { name: "conv_silu_backward", locals: L, body };
}

/**
 * The products of the block with fused multiply-adds (x_proj, and the projections up to ROW_PROJECTION_MAX_DIM)
 * as GEMM tiles (lib/kernels/gemm.ts with `fused`): each output a chain of multiply-adds over the reduction index in
 * order, from zero (or, for an accumulated gradient, from its current value). They replaced kernels that kept one
 * row's outputs in registers and computed exactly the same chains (the same bits); a tile of several rows shares
 * each weight load between its rows. Tiles of 3 x 12 columns where the columns come in twelves, else 5 x 8, else
 * 8 x 4.
 */
function fusedLayout(
  name: string,
  o: { aRow: number; aStep: number; bStep: number; cols: number },
  mode: GemmMode,
): GemmLayout {
  const vectors = o.cols / 4;
  const [mr, nv] = vectors % 3 === 0 ? [3, 3] : vectors % 2 === 0 ? [5, 2] : [8, 1];
  return { name, ...o, mode, fused: true, mr, nv };
}

/** C [P, Q] (= or +=) A [P, T] B [T, Q] with A's rows aCols floats apart, fused multiply-adds. */
function fusedNn(name: string, aCols: number, q: number, mode: "write" | "continue"): WasmFunction {
  return gemmKernel(fusedLayout(name, { aRow: 4 * aCols, aStep: 4, bStep: 4 * q, cols: q }, mode));
}

/** C [P, Q] = A [T, P]^T B [T, Q], fused multiply-adds; C must be zeroed first. */
function fusedTn(name: string, p: number, q: number): WasmFunction {
  return gemmKernel({ ...tnLayout(name, p, q), fused: true });
}

/**
 * dtRaw[m, c] = dtBias[c] + sum_{j<r} xdbl[m, j] wdt[j, c]; delta = softplus(dtRaw).
 * Params: xdbl [m, P], wdt [r, e], dtBias, dtRaw, delta, rows, e.
 */
function dtSoftplusKernel(r: number, p: number): WasmFunction {
  const L = rowLocals(["xdbl", "wdt", "dtBias", "dtRaw", "delta", "rows", "e"]);
  L.declare("xRow", I32);
  L.declare("acc", V128);
  const perChannel = seq(
    L.set("acc", vLoad(at(L, "dtBias", "c"))),
    unroll(r, (j) =>
      L.set(
        "acc",
        vMadd(
          vLoadSplat(L.get("xRow"), 4 * j),
          vLoad(iAdd(at(L, "wdt", "c"), iMul(L.get("eB"), iConst(j)))),
          L.get("acc"),
        ),
      )),
    vStore(at(L, "dtRaw", "row", "c"), L.get("acc")),
    vStore(at(L, "delta", "row", "c"), vSoftplus(L, "acc")),
  );
  const body = rowLoop(
    L,
    L.get("rows"),
    seq(L.set("xRow", iAdd(L.get("xdbl"), iMul(L.get("mi"), iConst(4 * p)))), channelLoop(L, perChannel)),
  );
  return { name: "dt_softplus", locals: L, body };
}

/**
 * Gradients of dt_proj + softplus. dDelta is overwritten by d(dtRaw) = dDelta sigmoid(dtRaw); the dt
 * columns [0, r) of dxdbl are written; dWdt [r, e] and dDtBias [e] are accumulated.
 * Params: dDelta, dtRaw, xdbl, wdt, dxdbl, dWdt, dDtBias, rows, e.
 */
function dtSoftplusBackwardKernel(r: number, p: number): WasmFunction {
  const L = rowLocals(["dDelta", "dtRaw", "xdbl", "wdt", "dxdbl", "dWdt", "dDtBias", "rows", "e"]);
  for (const name of ["xRow", "dxRow"]) L.declare(name, I32);
  for (const name of ["raw", "g"]) L.declare(name, V128);
  for (let j = 0; j < r; j++) L.declare(`acc${j}`, V128);
  const wdtAt = (j: number): number[] => iAdd(at(L, "wdt", "c"), iMul(L.get("eB"), iConst(j)));
  const dWdtAt = (j: number): number[] => iAdd(at(L, "dWdt", "c"), iMul(L.get("eB"), iConst(j)));
  const perChannel = seq(
    L.set("raw", vLoad(at(L, "dtRaw", "row", "c"))),
    L.set("g", vMul(vLoad(at(L, "dDelta", "row", "c")), vSigmoid(L, "raw"))),
    vStore(at(L, "dDelta", "row", "c"), L.get("g")),
    vStore(at(L, "dDtBias", "c"), vAdd(vLoad(at(L, "dDtBias", "c")), L.get("g"))),
    unroll(r, (j) =>
      seq(
        L.set(`acc${j}`, vMadd(L.get("g"), vLoad(wdtAt(j)), L.get(`acc${j}`))),
        vAccumulate(dWdtAt(j), vLoadSplat(L.get("xRow"), 4 * j), L.get("g")),
      )),
  );
  const body = rowLoop(
    L,
    L.get("rows"),
    seq(
      L.set("xRow", iAdd(L.get("xdbl"), iMul(L.get("mi"), iConst(4 * p)))),
      L.set("dxRow", iAdd(L.get("dxdbl"), iMul(L.get("mi"), iConst(4 * p)))),
      unroll(r, (j) => L.set(`acc${j}`, L.splat(0))),
      channelLoop(L, perChannel),
      unroll(r, (j) => fStore(iAdd(L.get("dxRow"), iConst(4 * j)), vSum(L, `acc${j}`))),
    ),
  );
  return { name: "dt_softplus_backward", locals: L, body };
}

/** out = y silu(z) over `count` floats (a multiple of 4). Params: y, z, out, count. */
function gateKernel(): WasmFunction {
  const L = new Locals(["y", "z", "out", "count"]);
  L.declare("i", I32);
  L.declare("zv", V128);
  const body = forUp(
    L,
    "i",
    iConst(0),
    iMul(L.get("count"), iConst(4)),
    16,
    seq(
      L.set("zv", vLoad(at(L, "z", "i"))),
      vStore(at(L, "out", "i"), vMul(vLoad(at(L, "y", "i")), vMul(L.get("zv"), vSigmoid(L, "zv")))),
    ),
  );
  return { name: "gate", locals: L, body };
}

/** dy = dout silu(z), dz = dout y silu'(z); dy may alias dout. Params: dout, y, z, dy, dz, count. */
function gateBackwardKernel(): WasmFunction {
  const L = new Locals(["dout", "y", "z", "dy", "dz", "count"]);
  L.declare("i", I32);
  for (const name of ["zv", "sg", "g"]) L.declare(name, V128);
  const body = forUp(
    L,
    "i",
    iConst(0),
    iMul(L.get("count"), iConst(4)),
    16,
    seq(
      L.set("zv", vLoad(at(L, "z", "i"))),
      L.set("sg", vSigmoid(L, "zv")),
      L.set("g", vLoad(at(L, "dout", "i"))),
      vStore(at(L, "dz", "i"), vMul(vMul(L.get("g"), vLoad(at(L, "y", "i"))), vSiluSlope(L, "zv", "sg"))),
      vStore(at(L, "dy", "i"), vMul(L.get("g"), vMul(L.get("zv"), L.get("sg")))),
    ),
  );
  return { name: "gate_backward", locals: L, body };
}

// ---------------------------------------------------------------------------------------------------------
// The compiled module and its memory.

/** The Mamba-core kernels for one (n, r, w), sharing one memory. */
export interface CoreKernels {
  readonly memory: WebAssembly.Memory;
  /** Row stride of x_proj outputs: r + 2n rounded up to a multiple of 4. */
  readonly p: number;
  readonly vexp: Kernel;
  readonly convSilu: Kernel;
  readonly convSiluBackward: Kernel;
  /** xdbl [m, P] = u wx (wx [e, P] zero padded). Params: u, wx, xdbl, rows, e. */
  readonly xProj: Kernel;
  /**
   * Gradients of x_proj from dxdbl [m, P]: du [m, e] += sum_{j<R} dxdbl[:, j] wxT[j, :] (accumulated) and
   * dWx [e, P] = u^T dxdbl (written). Params: dxdbl, u, wxT [R, e], du, dWx, rows, e.
   */
  readonly xProjBackward: Kernel;
  readonly dtSoftplus: Kernel;
  readonly dtSoftplusBackward: Kernel;
  /** The forward scan; its last parameter is l n floats of scratch (one channel's exp(dt A)). */
  readonly scanForward: Kernel;
  /** scanForward that writes every exp(dt A) to a [b, e, l, n] array (its last parameter) for the backward. */
  readonly scanForwardKeep: Kernel;
  readonly scanBackward: Kernel;
  /** scanBackward that reads scanForwardKeep's exp(dt A) (its last parameter) instead of recomputing them. */
  readonly scanBackwardStored: Kernel;
  /** The four scans with y (forward) or dy (backward) at the last position only, [b, e] (see the generators). */
  readonly scanForwardLast: Kernel;
  readonly scanForwardKeepLast: Kernel;
  readonly scanBackwardLast: Kernel;
  readonly scanBackwardStoredLast: Kernel;
  readonly gate: Kernel;
  readonly gateBackward: Kernel;
  /**
   * The block's projections (compiled only with a model dim dm, see `coreKernels`): inProj(xm, w [dm, e],
   * out [m, e], rows, dm); outProj(gated, w [e, dm], out [m, dm], rows, e); inProjBackward(dxz [m, e], xm,
   * wT [e, dm], dxm [m, dm] (accumulated), dW [dm, e] (written), rows, dm); outProjBackward(dy [m, dm], gated,
   * wT [dm, e], dGated [m, e] (accumulated), dW [e, dm], rows, e). Up to ROW_PROJECTION_MAX_DIM they multiply-add
   * fused like x_proj; wider, GEMM tiles with tf.matMul's arithmetic (lib/kernels/gemm.ts).
   */
  readonly inProj?: Kernel;
  readonly outProj?: Kernel;
  readonly inProjBackward?: Kernel;
  readonly outProjBackward?: Kernel;
}

const compiled = new Map<string, CoreKernels>();

/**
 * Widest model dim whose block projections use fused multiply-adds (fusedNn / fusedTn, the arithmetic the block
 * has had since its projections moved into the op at small d); wider blocks use GEMM tiles that reproduce
 * tf.matMul bit for bit, so the fused block there computes exactly what `linear` around the core computed.
 */
export const ROW_PROJECTION_MAX_DIM = 16;

/**
 * The projection kernels of a block at model dim dm (inner dim e = 2 dm): in_proj (x = xm inX), out_proj
 * (out = gated outW), their input gradients *_dx (dxm += dxz inX^T, dGated += dOut outW^T) and weight gradients
 * *_dw (dInX = xm^T dxz, dOutW = gated^T dOut).
 */
function projectionKernels(dm: number): WasmFunction[] {
  const e = 2 * dm;
  if (dm <= ROW_PROJECTION_MAX_DIM) {
    return [
      fusedNn("in_proj", dm, e, "write"),
      fusedNn("out_proj", e, dm, "write"),
      fusedNn("in_proj_dx", e, dm, "continue"),
      fusedNn("out_proj_dx", dm, e, "continue"),
      fusedTn("in_proj_dw", dm, e),
      fusedTn("out_proj_dw", e, dm),
    ];
  }
  return [
    nnLayout("in_proj", dm, e, "write"),
    nnLayout("out_proj", e, dm, "write"),
    nnLayout("in_proj_dx", e, dm, "add"),
    nnLayout("out_proj_dx", dm, e, "add"),
    tnLayout("in_proj_dw", dm, e),
    tnLayout("out_proj_dw", e, dm),
  ].map(gemmKernel);
}

type ProjectionName = "inProj" | "outProj" | "inProjBackward" | "outProjBackward";

/** The four projection entry points of `CoreKernels` over a compiled module's kernels. */
function projections(
  dm: number,
  memory: WebAssembly.Memory,
  k: (name: string) => Kernel,
): Record<ProjectionName, Kernel> {
  const e = 2 * dm;
  const [inDx, outDx, inDw, outDw] = ["in_proj_dx", "out_proj_dx", "in_proj_dw", "out_proj_dw"].map(k);
  return {
    inProj: k("in_proj"),
    outProj: k("out_proj"),
    inProjBackward: (dxz, xm, wT, dxm, dW, rows) => {
      inDx(dxz, wT, dxm, rows, e);
      view(memory, dW, dm * e).fill(0);
      inDw(xm, dxz, dW, dm, rows);
    },
    outProjBackward: (dy, gated, wT, dGated, dW, rows) => {
      outDx(dy, wT, dGated, rows, dm);
      view(memory, dW, e * dm).fill(0);
      outDw(gated, dy, dW, e, rows);
    },
  };
}

/**
 * The kernels for state size n (a multiple of 4), dt rank r, conv width w and inner dim e (a multiple of 4),
 * compiled on first use (a few ms); with a model dim dm (a multiple of 4, and then e = 2 dm) also the block's
 * in- and out-projections. Each (n, r, w, e, dm) and offset mode (lib/kernels/assembler.ts `setOffsetMode`) has a
 * module (and memory) of its own.
 */
export function coreKernels(n: number, r: number, w: number, e: number, dm = 0): CoreKernels {
  if (!Number.isInteger(n) || n <= 0 || n % 4 !== 0) {
    throw new Error(`the Mamba kernels need a state size n that is a multiple of 4, got ${n}`);
  }
  for (const [name, v] of [["dt rank r", r], ["conv width w", w]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`the Mamba kernels need a ${name} >= 1, got ${v}`);
  }
  if (!Number.isInteger(e) || e <= 0 || e % 4 !== 0) {
    throw new Error(`the Mamba kernels need an inner dim e that is a multiple of 4, got ${e}`);
  }
  if (!Number.isInteger(dm) || dm < 0 || dm % 4 !== 0 || (dm > 0 && e !== 2 * dm)) {
    throw new Error(
      `the Mamba block kernels need a model dim that is a multiple of 4 and e = 2 dm, got dm=${dm}, e=${e}`,
    );
  }
  const key = `${n},${r},${w},${e},${dm},${currentOffsetMode()}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const rWidth = r + 2 * n;
  const p = Math.ceil(rWidth / 4) * 4;
  const fns = [
    vExpKernel(),
    convSiluKernel(w),
    convSiluBackwardKernel(w),
    fusedNn("x_proj", e, p, "write"), // xdbl = u wx
    fusedNn("x_proj_du", p, e, "continue"), // du += dxdbl wx^T (the first R columns)
    fusedTn("x_proj_dw", e, p), // dWx = u^T dxdbl
    dtSoftplusKernel(r, p),
    dtSoftplusBackwardKernel(r, p),
    scanForwardKernel(n),
    scanForwardKernel(n, true),
    scanForwardKernel(n, false, true),
    scanForwardKernel(n, true, true),
    scanBackwardKernel(n),
    scanBackwardKernel(n, true),
    scanBackwardKernel(n, false, true),
    scanBackwardKernel(n, true, true),
    gateKernel(),
    gateBackwardKernel(),
    ...(dm > 0 ? projectionKernels(dm) : []),
  ];
  const { memory, kernel: k } = instantiate(fns);
  const [xDu, xDw] = [k("x_proj_du"), k("x_proj_dw")];
  const kernels: CoreKernels = {
    memory,
    p,
    vexp: k("vexp"),
    convSilu: k("conv_silu"),
    convSiluBackward: k("conv_silu_backward"),
    xProj: k("x_proj"),
    xProjBackward: (dxdbl, u, wxT, du, dWx, rows) => {
      xDu(dxdbl, wxT, du, rows, rWidth);
      view(memory, dWx, e * p).fill(0);
      xDw(u, dxdbl, dWx, e, rows);
    },
    dtSoftplus: k("dt_softplus"),
    dtSoftplusBackward: k("dt_softplus_backward"),
    scanForward: k("scan_forward"),
    scanForwardKeep: k("scan_forward_keep"),
    scanBackward: k("scan_backward"),
    scanBackwardStored: k("scan_backward_stored"),
    scanForwardLast: k("scan_forward_last"),
    scanForwardKeepLast: k("scan_forward_keep_last"),
    scanBackwardLast: k("scan_backward_last"),
    scanBackwardStoredLast: k("scan_backward_stored_last"),
    gate: k("gate"),
    gateBackward: k("gate_backward"),
    ...(dm > 0 ? projections(dm, memory, k) : {}),
  };
  compiled.set(key, kernels);
  return kernels;
}

/** exp of each element through the kernels' vectorised exp (exposed so its error bound can be tested). */
export function vectorExp(x: Float32Array): Float32Array {
  const k = coreKernels(4, 1, 4, 4);
  const count = Math.ceil(x.length / 4) * 4;
  const at = reserve(k.memory, { x: count, out: count });
  view(k.memory, at.x, count).fill(0).set(x);
  k.vexp(at.x, at.out, count);
  return copyOut(k.memory, at.out, x.length);
}
