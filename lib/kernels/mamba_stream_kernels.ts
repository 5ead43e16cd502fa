/**
 * The selective scan with its state carried in and out: what lets a Mamba layer run over a sequence one chunk at a
 * time (lib/models/long_forward.ts). The training kernels (mamba_kernels.ts) start every scan at h = 0 and never
 * return the state, so a chunked run needs this one; its arithmetic per step is theirs, operation for operation
 * (the same vExp, the same multiply-adds in the same order), so a chunked scan gives the full scan's numbers.
 *
 * Recurrence of one sequence, per channel c, from the state h[c, :] left by the previous chunk:
 *   h[s] = exp(delta[t, c] A[c, s]) h[s] + delta[t, c] u[t, c] B[t, s]
 *   y[t, c] = sum_s h[s] C[t, s] + D[c] u[t, c]                          (only for t >= yFrom)
 *
 * Loop order: blocks of BLOCK time steps outside, channels inside, so one block's rows of delta, u, B and C stay in
 * cache while every channel walks them (a chunk of thousands of rows would not). Per (block, channel) the state is
 * loaded into registers, first all the block's exp(delta A) are written to a small scratch (independent of each
 * other, so their long dependency chains overlap), then the recurrence reads them back, then the state is stored.
 *
 * Glossary: l rows of the chunk (`len`), e inner dim (channels c), n state dim (s), P row stride of B and C.
 */
import {
  F32,
  fAdd,
  fLoad,
  fMul,
  forUp,
  fStore,
  I32,
  iAdd,
  iConst,
  ifThen,
  iMul,
  type Kernel,
  Locals,
  seq,
  uleb,
  unroll,
  V128,
  vExp,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vSplat,
  vStore,
  vSum,
  type WasmFunction,
} from "./assembler.ts";

/** Time steps per block of the scan (4 KB of exponentials at n = 16: the scratch stays in L1). */
export const SCAN_BLOCK = 64;

const PARAMS = [
  "delta", // [l, e]
  "u", // [l, e]
  "bm", // B[t, s] at bm + t rowStride + 4 s
  "cm", // C[t, s] at cm + t rowStride + 4 s
  "a", // A [e, n]
  "dSkip", // D [e]
  "len",
  "e",
  "rowStride",
  "state", // h [e, n], read and written
  "y", // [l, e], written at rows t >= yFrom
  "yFrom",
  "expAt", // scratch: SCAN_BLOCK n floats
] as const;

/** "scan_stream": one sequence's chunk through the scan, state in and out (see the file comment). */
function scanStreamKernel(n: number): WasmFunction {
  const nv = n / 4;
  const rowBytes = 16 * nv;
  const L = new Locals(PARAMS);
  for (const name of ["t0", "tEnd", "c", "t", "elem", "rowOff", "eStride", "dARow", "hAt"]) L.declare(name, I32);
  for (const name of ["dt", "uu", "dSkipC"]) L.declare(name, F32);
  for (const name of ["dtv", "duv", "acc"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) {
    L.declare(`a${v}`, V128);
    L.declare(`h${v}`, V128);
  }
  /** Pointers to (t0, c): elem = 4 (t0 e + c), rowOff = t0 rowStride, dARow = the scratch's first row. */
  const toBlockStart = seq(
    L.set("elem", iMul(iAdd(iMul(L.get("t0"), L.get("e")), L.get("c")), iConst(4))),
    L.set("rowOff", iMul(L.get("t0"), L.get("rowStride"))),
    L.set("dARow", L.get("expAt")),
  );
  const expStep = seq(
    L.set("dtv", vLoadSplat(iAdd(L.get("delta"), L.get("elem")))),
    unroll(nv, (v) => vStore(L.get("dARow"), vExp(L, vMul(L.get("dtv"), L.get(`a${v}`)), true), 16 * v)), // dt > 0, A < 0
    L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
    L.set("elem", iAdd(L.get("elem"), L.get("eStride"))),
  );
  const yStep = seq(
    L.set("acc", L.splat(0)),
    unroll(
      nv,
      (v) => L.set("acc", vMadd(L.get(`h${v}`), vLoad(iAdd(L.get("cm"), L.get("rowOff")), 16 * v), L.get("acc"))),
    ),
    fStore(iAdd(L.get("y"), L.get("elem")), fAdd(vSum(L, "acc"), fMul(L.get("dSkipC"), L.get("uu")))),
  );
  const step = seq(
    L.set("dt", fLoad(iAdd(L.get("delta"), L.get("elem")))),
    L.set("uu", fLoad(iAdd(L.get("u"), L.get("elem")))),
    L.set("duv", vSplat(fMul(L.get("dt"), L.get("uu")))),
    unroll(nv, (v) =>
      L.set(
        `h${v}`,
        vMadd(
          vLoad(L.get("dARow"), 16 * v),
          L.get(`h${v}`),
          vMul(L.get("duv"), vLoad(iAdd(L.get("bm"), L.get("rowOff")), 16 * v)),
        ),
      )),
    ifThen(seq(L.get("t"), L.get("yFrom"), [0x4e]), yStep), // t >= yFrom (i32.ge_s)
    L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
    L.set("elem", iAdd(L.get("elem"), L.get("eStride"))),
    L.set("rowOff", iAdd(L.get("rowOff"), L.get("rowStride"))),
  );
  const perChannel = seq(
    L.set("hAt", iAdd(L.get("state"), iMul(L.get("c"), iConst(rowBytes)))),
    L.set("dSkipC", fLoad(iAdd(L.get("dSkip"), iMul(L.get("c"), iConst(4))))),
    unroll(nv, (v) =>
      seq(
        L.set(`a${v}`, vLoad(iAdd(L.get("a"), iMul(L.get("c"), iConst(rowBytes))), 16 * v)),
        L.set(`h${v}`, vLoad(L.get("hAt"), 16 * v)),
      )),
    toBlockStart,
    forUp(L, "t", L.get("t0"), L.get("tEnd"), 1, expStep),
    toBlockStart,
    forUp(L, "t", L.get("t0"), L.get("tEnd"), 1, step),
    unroll(nv, (v) => vStore(L.get("hAt"), L.get(`h${v}`), 16 * v)),
  );
  const tEnd = (): number[] => iAdd(L.get("t0"), iConst(SCAN_BLOCK));
  const body = seq(
    L.set("eStride", iMul(L.get("e"), iConst(4))),
    forUp(
      L,
      "t0",
      iConst(0),
      L.get("len"),
      SCAN_BLOCK,
      seq(
        L.set("tEnd", seq(tEnd(), L.get("len"), tEnd(), L.get("len"), [0x48, 0x1b])), // min(t0 + BLOCK, len): lt_s, select
        forUp(L, "c", iConst(0), L.get("e"), 1, perChannel),
      ),
    ),
  );
  return { name: "scan_stream", locals: L, body };
}

/**
 * A module of `functions` that runs on `memory` (imported, not its own): the streaming scan then reads the training
 * kernels' outputs where they wrote them, in their module's memory, instead of copies. (lib/kernels/assembler.ts
 * `encodeModule` with an import section in place of the memory section.)
 */
function instantiateOn(functions: readonly WasmFunction[], memory: WebAssembly.Memory): (name: string) => Kernel {
  const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
  const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
  const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((x) => [x]));
  const types = functions.map((f) => [0x60, ...vec(Array(f.locals.paramCount).fill([I32])), 0]);
  const bodies = functions.map((f) => {
    const code = [...vec(f.locals.types.map((t) => [1, t])), ...f.locals.prologue, ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  const bytes = new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 1]])), // import memory, min 1 page
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(bodies)),
  ]);
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
  return (kernel: string): Kernel => exports[kernel] as Kernel;
}

const compiled = new WeakMap<WebAssembly.Memory, Map<number, Kernel>>();

/**
 * "scan_stream" for state size n (a multiple of 4) on `memory` (a training kernel module's: coreKernels(...).memory),
 * compiled once per (memory, n). Params as PARAMS: byte offsets into `memory`, then counts (see the file comment).
 */
export function streamScan(n: number, memory: WebAssembly.Memory): Kernel {
  if (!Number.isInteger(n) || n <= 0 || n % 4 !== 0) {
    throw new Error(`the streaming scan needs a state size n that is a multiple of 4, got ${n}`);
  }
  let byN = compiled.get(memory);
  if (!byN) compiled.set(memory, byN = new Map());
  let kernel = byN.get(n);
  if (!kernel) byN.set(n, kernel = instantiateOn([scanStreamKernel(n)], memory)("scan_stream"));
  return kernel;
}
