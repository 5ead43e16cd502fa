/**
 * WebAssembly SIMD kernels for LayerNorm over rows of width d (see layer_norm.ts), specialised to d (a multiple
 * of 4; a row is d / 4 vectors, unrolled). Emitted by lib/kernels/assembler.ts at first use and run on typed-array
 * views of the module's own memory.
 *
 * Per row x [d]: mu = sum(x) / d; c = x - mu; var = sum(c c) / d; rstd = 1 / sqrt(var + eps); xhat = c rstd;
 * y = xhat gain + bias. Backward from dy: g = dy gain; dx = rstd (g - sum(g) / d - xhat sum(g xhat) / d);
 * dGain += dy xhat and dBias += dy (accumulated over rows, lane by lane, in memory). Sums over a row add the
 * row's vectors lane-wise, then the four lanes; all arithmetic in float32.
 *
 * Glossary: m rows, d row width, v vector index in a row (< d / 4).
 */
import {
  type Code,
  F32,
  fAdd,
  fConst,
  fDiv,
  fLoad,
  fMul,
  forUp,
  fSqrt,
  fStore,
  I32,
  iAdd,
  iConst,
  iMul,
  instantiate,
  type Kernel,
  Locals,
  seq,
  unroll,
  V128,
  vAccumulate,
  vAdd,
  vLoad,
  vMadd,
  vMul,
  vSplat,
  vStore,
  vSub,
  vSum,
  type WasmFunction,
} from "./assembler.ts";

/** Rows loop: `for (row = 0; row < rows; row++)` with "off" = row * 4d (byte offset of the row). */
function rowsLoop(L: Locals, d: number, body: Code): number[] {
  return forUp(L, "row", iConst(0), L.get("rows"), 1, seq(L.set("off", iMul(L.get("row"), iConst(4 * d))), body));
}

/** Params: x, gain, bias, y, xhat [m, d] (written), rstd [m] (written), rows; eps fixed at generation. */
function forwardKernel(d: number, eps: number): WasmFunction {
  const nv = d / 4;
  const L = new Locals(["x", "gain", "bias", "y", "xhat", "rstd", "rows"]);
  for (const name of ["row", "off"]) L.declare(name, I32);
  for (const name of ["mu", "r"]) L.declare(name, F32);
  for (const name of ["acc", "muv", "rv", "h"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) L.declare(`c${v}`, V128);
  const xAt = iAdd(L.get("x"), L.get("off"));
  const body = seq(
    // mean
    L.set("acc", vLoad(xAt)),
    unroll(nv - 1, (v) => L.set("acc", vAdd(L.get("acc"), vLoad(xAt, 16 * (v + 1))))),
    L.set("mu", fMul(vSum(L, "acc"), fConst(1 / d))),
    L.set("muv", vSplat(L.get("mu"))),
    // centred values and their mean square
    unroll(nv, (v) => L.set(`c${v}`, vSub(vLoad(xAt, 16 * v), L.get("muv")))),
    L.set("acc", vMul(L.get("c0"), L.get("c0"))),
    unroll(nv - 1, (v) => L.set("acc", vMadd(L.get(`c${v + 1}`), L.get(`c${v + 1}`), L.get("acc")))),
    L.set("r", fDiv(fConst(1), fSqrt(fAdd(fMul(vSum(L, "acc"), fConst(1 / d)), fConst(eps))))),
    fStore(iAdd(L.get("rstd"), iMul(L.get("row"), iConst(4))), L.get("r")),
    L.set("rv", vSplat(L.get("r"))),
    unroll(nv, (v) =>
      seq(
        L.set("h", vMul(L.get(`c${v}`), L.get("rv"))),
        vStore(iAdd(L.get("xhat"), L.get("off")), L.get("h"), 16 * v),
        vStore(
          iAdd(L.get("y"), L.get("off")),
          vMadd(L.get("h"), vLoad(L.get("gain"), 16 * v), vLoad(L.get("bias"), 16 * v)),
          16 * v,
        ),
      )),
  );
  return { name: "layer_norm", locals: L, body: rowsLoop(L, d, body) };
}

/** Params: dy, gain, xhat [m, d], rstd [m], dx [m, d] (written), dGain, dBias [d] (accumulated), rows. */
function backwardKernel(d: number): WasmFunction {
  const nv = d / 4;
  const L = new Locals(["dy", "gain", "xhat", "rstd", "dx", "dGain", "dBias", "rows"]);
  for (const name of ["row", "off"]) L.declare(name, I32);
  for (const name of ["sg", "sgx", "mgv", "mgxv", "rv", "dyv", "hv"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) L.declare(`g${v}`, V128);
  const dyAt = iAdd(L.get("dy"), L.get("off"));
  const hAt = iAdd(L.get("xhat"), L.get("off"));
  const body = seq(
    unroll(nv, (v) =>
      seq(
        L.set("dyv", vLoad(dyAt, 16 * v)),
        L.set("hv", vLoad(hAt, 16 * v)),
        L.set(`g${v}`, vMul(L.get("dyv"), vLoad(L.get("gain"), 16 * v))),
        v === 0 ? L.set("sg", L.get("g0")) : L.set("sg", vAdd(L.get("sg"), L.get(`g${v}`))),
        v === 0
          ? L.set("sgx", vMul(L.get("g0"), L.get("hv")))
          : L.set("sgx", vMadd(L.get(`g${v}`), L.get("hv"), L.get("sgx"))),
        vAccumulate(L.get("dGain"), L.get("dyv"), L.get("hv"), 16 * v),
        vStore(L.get("dBias"), vAdd(vLoad(L.get("dBias"), 16 * v), L.get("dyv")), 16 * v),
      )),
    L.set("mgv", vSplat(fMul(vSum(L, "sg"), fConst(1 / d)))),
    L.set("mgxv", vSplat(fMul(vSum(L, "sgx"), fConst(1 / d)))),
    L.set("rv", vSplat(fLoad(iAdd(L.get("rstd"), iMul(L.get("row"), iConst(4)))))),
    unroll(nv, (v) =>
      vStore(
        iAdd(L.get("dx"), L.get("off")),
        vMul(L.get("rv"), vSub(vSub(L.get(`g${v}`), L.get("mgv")), vMul(vLoad(hAt, 16 * v), L.get("mgxv")))),
        16 * v,
      )),
  );
  return { name: "layer_norm_backward", locals: L, body: rowsLoop(L, d, body) };
}

/** The LayerNorm kernels for one row width, sharing one memory. */
export interface LayerNormKernels {
  readonly memory: WebAssembly.Memory;
  /** (x, gain, bias, y, xhat, rstd, rows) */
  readonly forward: Kernel;
  /** (dy, gain, xhat, rstd, dx, dGain, dBias, rows) */
  readonly backward: Kernel;
}

const compiled = new Map<string, LayerNormKernels>();

/** The kernels for rows of width d (a multiple of 4) and epsilon eps, compiled on first use. */
export function layerNormKernels(d: number, eps: number): LayerNormKernels {
  if (!Number.isInteger(d) || d <= 0 || d % 4 !== 0) {
    throw new Error(`the LayerNorm kernels need a width that is a multiple of 4, got ${d}`);
  }
  const key = `${d},${eps}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const { memory, kernel } = instantiate([forwardKernel(d, eps), backwardKernel(d)]);
  const kernels = { memory, forward: kernel("layer_norm"), backward: kernel("layer_norm_backward") };
  compiled.set(key, kernels);
  return kernels;
}
