/**
 * WebAssembly SIMD kernels for the Mamba core (see mamba_core.ts): the selective scan, forward and backward,
 * and the steps around it (causal conv + SiLU, x_proj, dt_proj + softplus, the SiLU(z) gate).
 *
 * Why not plain JS: the scan needs exp(delta * A) for every (b, t, c, s), and V8's `Math.exp` costs ~19 ns
 * here (a scalar polynomial ~7 ns); at b = l = 64, e = 128, n = 16 a JS forward scan alone took ~110 ms, and
 * the element-wise steps (softplus, sigmoids) another ~65 ms. These kernels run four float32 lanes at once
 * with a vectorised exp (`vExp`) and keep the scan state in registers. They are emitted as WebAssembly bytes
 * by the small assembler below when first used (no build step, no dependency), specialised to the state size
 * n, the dt rank r and the conv width w, and run on typed-array views of the module's own memory.
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

// ---------------------------------------------------------------------------------------------------------
// A tiny WebAssembly assembler: expressions are byte arrays, composed by concatenation.

type Code = readonly number[];

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function seq(...parts: Code[]): number[] {
  return parts.flat();
}

function bytesOf(x: number, type: "f32" | "i32"): number[] {
  const array = type === "f32" ? new Float32Array([x]) : new Int32Array([x]);
  return [...new Uint8Array(array.buffer)];
}

/** 0xfd-prefixed SIMD instruction: opcode as LEB128, then immediates. */
function simd(op: number, ...immediates: number[]): number[] {
  return [0xfd, ...uleb(op), ...immediates];
}

function vConst(x: number, type: "f32" | "i32"): number[] {
  const b = bytesOf(x, type);
  return simd(0x0c, ...b, ...b, ...b, ...b);
}

/** Named parameters (all i32) and locals of one function under construction. */
class Locals {
  readonly #index = new Map<string, number>();
  readonly #localTypes: ValType[] = [];
  readonly #prologue: number[] = [];
  readonly paramCount: number;

  constructor(params: readonly string[]) {
    params.forEach((p, i) => this.#index.set(p, i));
    this.paramCount = params.length;
  }

  /** Declare a local; declaring a name twice is a no-op. */
  declare(name: string, type: ValType): void {
    if (this.#index.has(name)) return;
    this.#index.set(name, this.paramCount + this.#localTypes.length);
    this.#localTypes.push(type);
  }

  get types(): readonly ValType[] {
    return this.#localTypes;
  }

  /** Code run once at function entry (hoisted constants). */
  get prologue(): readonly number[] {
    return this.#prologue;
  }

  get(name: string): number[] {
    const i = this.#index.get(name);
    if (i === undefined) throw new Error(`wasm local ${name} not declared`);
    return [0x20, ...uleb(i)];
  }

  set(name: string, value: Code): number[] {
    return [...value, 0x21, ...this.get(name).slice(1)];
  }

  /**
   * A four-lane constant read from a local set once at entry: V8 rebuilds a `v128.const` inside a loop
   * with several instructions; a local costs a register or one stack load.
   */
  splat(x: number, type: "f32" | "i32" = "f32"): number[] {
    const name = `${type}:${x}`;
    if (!this.#index.has(name)) {
      this.declare(name, V128);
      this.#prologue.push(...this.set(name, vConst(x, type)));
    }
    return this.get(name);
  }
}

// i32 (addresses in bytes, counters)
function iConst(n: number): number[] {
  return [0x41, ...sleb(n)];
}
function iAdd(a: Code, b: Code): number[] {
  return seq(a, b, [0x6a]);
}
function iSub(a: Code, b: Code): number[] {
  return seq(a, b, [0x6b]);
}
function iMul(a: Code, b: Code): number[] {
  return seq(a, b, [0x6c]);
}

// f32 scalars
function fLoad(addr: Code): number[] {
  return seq(addr, [0x2a, 2, 0]);
}
function fStore(addr: Code, value: Code): number[] {
  return seq(addr, value, [0x38, 2, 0]);
}
function fAdd(a: Code, b: Code): number[] {
  return seq(a, b, [0x92]);
}
function fMul(a: Code, b: Code): number[] {
  return seq(a, b, [0x94]);
}

// f32x4 vectors. Memory alignment hints say 4 bytes: B and C rows need not be 16-byte aligned.
function vLoad(addr: Code, offset = 0): number[] {
  return seq(addr, simd(0x00, 2, ...uleb(offset)));
}
function vStore(addr: Code, value: Code, offset = 0): number[] {
  return seq(addr, value, simd(0x0b, 2, ...uleb(offset)));
}
/** Load one float into all four lanes (v128.load32_splat). */
function vLoadSplat(addr: Code, offset = 0): number[] {
  return seq(addr, simd(0x09, 2, ...uleb(offset)));
}
function vSplat(scalar: Code): number[] {
  return seq(scalar, simd(0x13));
}
function vAdd(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe4));
}
function vSub(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe5));
}
function vMul(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe6));
}
function vDiv(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe7));
}
function vAbs(a: Code): number[] {
  return seq(a, simd(0xe0));
}
/** Lane-wise b < a ? b : a (one x86 minps; differs from f32x4.min only for NaN and signed zeros). */
function vPmin(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xea));
}
/** Lane-wise a < b ? b : a (one x86 maxps). */
function vPmax(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xeb));
}
function vLane(a: Code, lane: number): number[] {
  return seq(a, simd(0x1f, lane));
}

/** Whether this engine has relaxed SIMD's fused multiply-add (V8 since 11.4 on FMA hardware). */
const HAS_MADD = WebAssembly.validate(
  new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, 0, 1, V128]])), // type () -> v128
    ...section(3, vec([[0]])),
    ...section(
      10,
      vec([
        vec([]).concat(
          vConst(0, "f32"),
          vConst(0, "f32"),
          vConst(0, "f32"),
          simd(0x105), // f32x4.relaxed_madd
          [0x0b],
        ),
      ].map((body) => [...uleb(body.length), ...body])),
    ),
  ]),
);

/** a * b + c, fused where the engine allows it (either way within float32 rounding of the exact value). */
function vMadd(a: Code, b: Code, c: Code): number[] {
  return HAS_MADD ? seq(a, b, c, simd(0x105)) : vAdd(vMul(a, b), c);
}

/** dst[addr] += a * b (vectors in memory). */
function vAccumulate(addr: Code, a: Code, b: Code, offset = 0): number[] {
  return vStore(addr, vMadd(a, b, vLoad(addr, offset)), offset);
}

/** Sum of the four lanes of a vector local. */
function vSum(L: Locals, name: string): number[] {
  return fAdd(fAdd(vLane(L.get(name), 0), vLane(L.get(name), 1)), fAdd(vLane(L.get(name), 2), vLane(L.get(name), 3)));
}

/** `for (i = from; i < to; i += step) body` over i32 locals. */
function forUp(L: Locals, i: string, from: Code, to: Code, step: number, body: Code): number[] {
  return seq(
    L.set(i, from),
    [0x02, 0x40, 0x03, 0x40], // block, loop
    L.get(i),
    to,
    [0x4e, 0x0d, 1], // i32.ge_s, br_if 1 (leave)
    body,
    L.set(i, iAdd(L.get(i), iConst(step))),
    [0x0c, 0, 0x0b, 0x0b], // br 0 (repeat), end loop, end block
  );
}

/** `for (i = from - 1; i >= to; i--) body` over i32 locals. */
function forDown(L: Locals, i: string, from: Code, to: Code, body: Code): number[] {
  return seq(
    L.set(i, from),
    [0x02, 0x40, 0x03, 0x40],
    L.get(i),
    to,
    [0x4c, 0x0d, 1], // i32.le_s, br_if 1
    L.set(i, iSub(L.get(i), iConst(1))),
    body,
    [0x0c, 0, 0x0b, 0x0b],
  );
}

/** Repeat `body(v)` for v = 0 .. count - 1 (unrolled at generation time). */
function unroll(count: number, body: (v: number) => Code): number[] {
  return Array.from({ length: count }, (_, v) => body(v)).flat();
}

interface WasmFunction {
  readonly name: string;
  readonly locals: Locals;
  readonly body: Code;
}

function section(id: number, content: Code): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: Code[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A module with one exported memory ("memory") and the given exported functions (i32 params, no result). */
function encodeModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
  const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((x) => [x]));
  const types = functions.map((f) => [0x60, ...vec(Array(f.locals.paramCount).fill([I32])), 0]);
  const bodies = functions.map((f) => {
    const groups = f.locals.types.map((t) => [1, t]);
    const code = [...vec(groups), ...f.locals.prologue, ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, 1]])), // memory: min 1 page, grown from JS
    ...section(7, vec([[...name("memory"), 0x02, 0], ...functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(bodies)),
  ]);
}

// ---------------------------------------------------------------------------------------------------------
// Vector math.

const EXP_LOWEST = -87; // exp(-87) ~ 1.6e-38, just above the smallest normal float32 2^-126
const EXP_HIGHEST = 88;
const LN2_HI = 0.693359375; // few mantissa bits: k * LN2_HI is exact for |k| < 2^11
const LN2_LO = -2.12194440e-4;
const ROUNDER = 12582912; // 1.5 * 2^23: t + ROUNDER rounds t to an integer k, held in the low mantissa bits
const ROUNDER_BITS = 0x4b400000;

/**
 * exp of four lanes: x = k ln2 + f with k = round(x / ln2) and |f| <= ln2 / 2 (Cody-Waite split of ln2),
 * exp(f) by its degree-6 Taylor polynomial (truncation error <= 0.347^7 / 7! ~ 1.2e-7 relative), times 2^k
 * built from exponent bits. With float32 rounding the result is within ~3e-7 relative of exp(x) for x in
 * [-87, 88] (tests/mamba_core_test.ts measures it); below -87 it returns exp(-87) ~ 1.6e-38 instead of a
 * smaller number (absolute error < 1.7e-38). Only single-instruction SIMD ops: pmin/pmax rather than the
 * NaN-exact min/max, a rounding constant rather than nearest + trunc_sat. With `nonPositive` (the caller
 * guarantees x <= 0) the upper clamp is skipped. Uses locals expX, expT, expK, expF.
 */
function vExp(L: Locals, x: Code, nonPositive = false): number[] {
  for (const name of ["expX", "expT", "expK", "expF"]) L.declare(name, V128);
  let poly = L.splat(1 / 720);
  for (const c of [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) poly = vMadd(poly, L.get("expF"), L.splat(c));
  const twoPowK = seq(
    L.get("expT"), // bits: ROUNDER_BITS + k
    L.splat(127 - ROUNDER_BITS, "i32"),
    simd(0xae), // i32x4.add
    iConst(23),
    simd(0xab), // i32x4.shl: the float32 bit pattern of 2^k
  );
  return seq(
    L.set("expX", vPmax(nonPositive ? x : vPmin(x, L.splat(EXP_HIGHEST)), L.splat(EXP_LOWEST))),
    L.set("expT", vMadd(L.get("expX"), L.splat(Math.LOG2E), L.splat(ROUNDER))),
    L.set("expK", vSub(L.get("expT"), L.splat(ROUNDER))),
    L.set("expF", vMadd(L.get("expK"), L.splat(-LN2_HI), L.get("expX"))),
    L.set("expF", vMadd(L.get("expK"), L.splat(-LN2_LO), L.get("expF"))),
    vMul(poly, twoPowK),
  );
}

/** 1 / (1 + exp(-x)) of a vector local. */
function vSigmoid(L: Locals, x: string): number[] {
  return vDiv(L.splat(1), vAdd(L.splat(1), vExp(L, vSub(L.splat(0), L.get(x)))));
}

/** silu'(x) = s (1 + x (1 - s)) for x and s = sigmoid(x) in vector locals. */
function vSiluSlope(L: Locals, x: string, s: string): number[] {
  return vMul(L.get(s), vMadd(L.get(x), vSub(L.splat(1), L.get(s)), L.splat(1)));
}

/**
 * softplus(x) = max(x, 0) + log1p(q) with q = exp(-|x|) in (0, 1]; log1p(q) = 2 atanh(w) with
 * w = q / (2 + q) <= 1/3, summed up to w^13 / 13 (truncation < (1/3)^14 / 15 ~ 1.4e-8 relative).
 */
function vSoftplus(L: Locals, x: string): number[] {
  L.declare("spW", V128);
  L.declare("spW2", V128);
  let poly = L.splat(1 / 13);
  for (const c of [1 / 11, 1 / 9, 1 / 7, 1 / 5, 1 / 3, 1]) poly = vMadd(poly, L.get("spW2"), L.splat(c));
  return seq(
    L.set("spW", vExp(L, vSub(L.splat(0), vAbs(L.get(x))))), // q
    L.set("spW", vDiv(L.get("spW"), vAdd(L.splat(2), L.get("spW")))), // w
    L.set("spW2", vMul(L.get("spW"), L.get("spW"))),
    vMadd(vMul(L.splat(2), L.get("spW")), poly, vPmax(L.get(x), L.splat(0))),
  );
}

/** Test hook: exp of `count` (a multiple of 4) floats through `vExp`. Params: x, out, count. */
function vExpKernel(): WasmFunction {
  const L = new Locals(["x", "out", "count"]);
  L.declare("i", I32);
  const body = forUp(
    L,
    "i",
    iConst(0),
    iMul(L.get("count"), iConst(4)),
    16,
    vStore(iAdd(L.get("out"), L.get("i")), vExp(L, vLoad(iAdd(L.get("x"), L.get("i"))))),
  );
  return { name: "vexp", locals: L, body };
}

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
 * `perVector(v)`, all unrolled over v.
 */
function recurrenceStep(L: Locals, nv: number, perVector: (v: number) => Code): number[] {
  return unroll(nv, (v) =>
    seq(
      L.set("dA", vExp(L, vMul(L.get("dtv"), L.get(`a${v}`)), true)), // delta > 0, A < 0
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

/** y[b, t, c] = sum_s h[t, s] C[t, s] + D[c] u[t, c]. Params: SCAN_PARAMS, then y. */
function scanForwardKernel(n: number): WasmFunction {
  const nv = n / 4;
  const L = scanLocals([...SCAN_PARAMS, "y"], nv);
  const step = seq(
    loadStep(L),
    L.set("acc", L.splat(0)),
    recurrenceStep(
      L,
      nv,
      (v) => L.set("acc", vMadd(L.get(`h${v}`), vLoad(iAdd(L.get("cm"), L.get("rowOff")), 16 * v), L.get("acc"))),
    ),
    fStore(iAdd(L.get("y"), L.get("elem")), fAdd(vSum(L, "acc"), fMul(L.get("dSkipC"), L.get("uu")))),
    stepPointers(L, 1),
  );
  const perChannel = seq(
    channelStart(L, nv),
    unroll(nv, (v) => L.set(`h${v}`, L.splat(0))),
    forUp(L, "t", iConst(0), L.get("len"), 1, step),
  );
  return { name: "scan_forward", locals: L, body: forEachChannel(L, perChannel) };
}

/**
 * Gradients of sum(y * dy). Params: SCAN_PARAMS, then dy [b, l, e]; dDelta, dU [b, l, e] (written; dU
 * includes the D skip); dbm, dcm: dB and dC laid out like B and C (accumulated); dAOut [e, n] and
 * dDOut [e] (accumulated); scratch for one (b, c): hist [(l + 1) n] with row 0 zero, dAHist [l n].
 */
function scanBackwardKernel(n: number): WasmFunction {
  const nv = n / 4;
  const rowBytes = 16 * nv;
  const L = scanLocals(
    [...SCAN_PARAMS, "dy", "dDelta", "dU", "dbm", "dcm", "dAOut", "dDOut", "hist", "dAHist"],
    nv,
  );
  for (const name of ["hRow", "dARow"]) L.declare(name, I32);
  for (const name of ["dyy", "ddu", "dDAcc"]) L.declare(name, F32);
  for (const name of ["g", "dyv", "dduAcc", "gAcc"]) L.declare(name, V128);
  for (let v = 0; v < nv; v++) {
    L.declare(`dh${v}`, V128);
    L.declare(`gA${v}`, V128);
  }

  // Phase 1, t ascending: h[t] into hist row t + 1, exp(dt A) into dAHist row t.
  const forwardStep = seq(
    loadStep(L),
    recurrenceStep(L, nv, (v) =>
      seq(
        vStore(L.get("hRow"), L.get(`h${v}`), rowBytes + 16 * v),
        vStore(L.get("dARow"), L.get("dA"), 16 * v),
      )),
    L.set("hRow", iAdd(L.get("hRow"), iConst(rowBytes))),
    L.set("dARow", iAdd(L.get("dARow"), iConst(rowBytes))),
    stepPointers(L, 1),
  );

  // Phase 2, t descending. dh carries d(loss)/dh[t] from later steps.
  const rowAt = (base: string): number[] => iAdd(L.get(base), L.get("rowOff"));
  const backwardVector = (v: number): number[] =>
    seq(
      // dC[t] += dy h[t]
      vAccumulate(rowAt("dcm"), L.get("dyv"), vLoad(L.get("hRow"), rowBytes + 16 * v), 16 * v),
      // dh += dy C[t]; dB[t] += dh dt u; d(dt u) += dh . B[t]
      L.set(`dh${v}`, vMadd(L.get("dyv"), vLoad(rowAt("cm"), 16 * v), L.get(`dh${v}`))),
      vAccumulate(rowAt("dbm"), L.get(`dh${v}`), L.get("duv"), 16 * v),
      L.set("dduAcc", vMadd(L.get(`dh${v}`), vLoad(rowAt("bm"), 16 * v), L.get("dduAcc"))),
      // g = dh h[t - 1] exp(dt A), the gradient of the exponent dt A
      L.set("dA", vLoad(L.get("dARow"), 16 * v)),
      L.set("g", vMul(vMul(L.get(`dh${v}`), vLoad(L.get("hRow"), 16 * v)), L.get("dA"))),
      L.set("gAcc", vMadd(L.get("g"), L.get(`a${v}`), L.get("gAcc"))),
      L.set(`gA${v}`, vMadd(L.get("g"), L.get("dtv"), L.get(`gA${v}`))),
      // carry dh to t - 1
      L.set(`dh${v}`, vMul(L.get(`dh${v}`), L.get("dA"))),
    );
  const backwardStep = seq(
    stepPointers(L, -1),
    L.set("hRow", iSub(L.get("hRow"), iConst(rowBytes))),
    L.set("dARow", iSub(L.get("dARow"), iConst(rowBytes))),
    loadStep(L),
    L.set("dyy", fLoad(iAdd(L.get("dy"), L.get("elem")))),
    L.set("dyv", vSplat(L.get("dyy"))),
    L.set("dduAcc", L.splat(0)),
    L.set("gAcc", L.splat(0)),
    unroll(nv, backwardVector),
    L.set("ddu", vSum(L, "dduAcc")),
    fStore(iAdd(L.get("dDelta"), L.get("elem")), fAdd(vSum(L, "gAcc"), fMul(L.get("ddu"), L.get("uu")))),
    fStore(
      iAdd(L.get("dU"), L.get("elem")),
      fAdd(fMul(L.get("ddu"), L.get("dt")), fMul(L.get("dyy"), L.get("dSkipC"))),
    ),
    L.set("dDAcc", fAdd(L.get("dDAcc"), fMul(L.get("dyy"), L.get("uu")))),
  );

  const aRow = iAdd(L.get("dAOut"), iMul(L.get("c"), iConst(rowBytes)));
  const dDAt = iAdd(L.get("dDOut"), iMul(L.get("c"), iConst(4)));
  const perChannel = seq(
    channelStart(L, nv),
    unroll(nv, (v) => seq(L.set(`h${v}`, L.splat(0)), L.set(`dh${v}`, L.splat(0)), L.set(`gA${v}`, L.splat(0)))),
    L.set("hRow", L.get("hist")),
    L.set("dARow", L.get("dAHist")),
    forUp(L, "t", iConst(0), L.get("len"), 1, forwardStep),
    // the pointers now sit one step past the end; each backward step moves back first
    L.set("dDAcc", [0x43, ...bytesOf(0, "f32")]),
    forDown(L, "t", L.get("len"), iConst(0), backwardStep),
    unroll(nv, (v) => vStore(aRow, vAdd(vLoad(aRow, 16 * v), L.get(`gA${v}`)), 16 * v)),
    fStore(dDAt, fAdd(fLoad(dDAt), L.get("dDAcc"))),
  );
  return { name: "scan_backward", locals: L, body: forEachChannel(L, perChannel) };
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

/** base + the named byte offsets. */
function at(L: Locals, base: string, ...offsets: string[]): number[] {
  return offsets.reduce((addr: number[], o) => iAdd(addr, L.get(o)), L.get(base));
}

/** `if (cond) body`. */
function ifThen(cond: Code, body: Code): number[] {
  return seq(cond, [0x04, 0x40], body, [0x0b]);
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
 * xdbl[m, :] = u[m, :] @ wx with wx [e, P] zero padded: one channel at a time, the P / 4 output vectors of
 * the row in registers. Params: u, wx, xdbl [m, P], rows, e.
 */
function xProjKernel(p: number): WasmFunction {
  const nj = p / 4;
  const L = rowLocals(["u", "wx", "xdbl", "rows", "e"]);
  L.declare("us", V128);
  L.declare("wRow", I32);
  L.declare("out", I32);
  for (let j = 0; j < nj; j++) L.declare(`acc${j}`, V128);
  const perChannel = seq(
    L.set("us", vLoadSplat(at(L, "u", "row", "c"))),
    L.set("wRow", iAdd(L.get("wx"), iMul(L.get("c"), iConst(p)))), // channel c / 4 -> row offset 4 p (c / 4)
    unroll(nj, (j) => L.set(`acc${j}`, vMadd(L.get("us"), vLoad(L.get("wRow"), 16 * j), L.get(`acc${j}`)))),
  );
  const body = rowLoop(
    L,
    L.get("rows"),
    seq(
      unroll(nj, (j) => L.set(`acc${j}`, L.splat(0))),
      channelLoop(L, perChannel, 4),
      L.set("out", iAdd(L.get("xdbl"), iMul(L.get("mi"), iConst(4 * p)))),
      unroll(nj, (j) => vStore(L.get("out"), L.get(`acc${j}`), 16 * j)),
    ),
  );
  return { name: "x_proj", locals: L, body };
}

/**
 * Gradients of x_proj, dxdbl [m, P] (padding columns zero): du[m, c] += sum_{j<R} dxdbl[m, j] wxT[j, c]
 * (four channels at a time, unrolled over j) and dWx[c, :] = sum_m u[m, c] dxdbl[m, :] (per channel, the
 * P / 4 vectors in registers; written, not accumulated). Params: dxdbl, u, wxT [P, e], du, dWx [e, P], rows, e.
 */
function xProjBackwardKernel(rWidth: number, p: number): WasmFunction {
  const nj = p / 4;
  const L = rowLocals(["dxdbl", "u", "wxT", "du", "dWx", "rows", "e"]);
  for (const name of ["gRow", "uAt"]) L.declare(name, I32);
  L.declare("acc", V128);
  L.declare("us", V128);
  for (let j = 0; j < nj; j++) L.declare(`acc${j}`, V128);
  const duRow = seq(
    L.set("gRow", iAdd(L.get("dxdbl"), iMul(L.get("mi"), iConst(4 * p)))),
    channelLoop(
      L,
      seq(
        L.set("acc", vLoad(at(L, "du", "row", "c"))),
        unroll(rWidth, (j) =>
          L.set(
            "acc",
            vMadd(
              vLoadSplat(L.get("gRow"), 4 * j),
              vLoad(iAdd(at(L, "wxT", "c"), iMul(L.get("eB"), iConst(j)))),
              L.get("acc"),
            ),
          )),
        vStore(at(L, "du", "row", "c"), L.get("acc")),
      ),
    ),
  );
  const weightColumn = seq(
    unroll(nj, (j) => L.set(`acc${j}`, L.splat(0))),
    L.set("uAt", iAdd(L.get("u"), L.get("c"))),
    L.set("gRow", L.get("dxdbl")),
    forUp(
      L,
      "mi",
      iConst(0),
      L.get("rows"),
      1,
      seq(
        L.set("us", vLoadSplat(L.get("uAt"))),
        unroll(nj, (j) => L.set(`acc${j}`, vMadd(L.get("us"), vLoad(L.get("gRow"), 16 * j), L.get(`acc${j}`)))),
        L.set("uAt", iAdd(L.get("uAt"), L.get("eB"))),
        L.set("gRow", iAdd(L.get("gRow"), iConst(4 * p))),
      ),
    ),
    unroll(nj, (j) => vStore(iAdd(L.get("dWx"), iMul(L.get("c"), iConst(p))), L.get(`acc${j}`), 16 * j)),
  );
  const body = seq(rowLoop(L, L.get("rows"), duRow), channelLoop(L, weightColumn, 4));
  return { name: "x_proj_backward", locals: L, body };
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

/** A kernel call: byte offsets into `memory` and integer sizes, in the order its doc comment lists. */
export type Kernel = (...args: number[]) => void;

/** The Mamba-core kernels for one (n, r, w), sharing one memory. */
export interface CoreKernels {
  readonly memory: WebAssembly.Memory;
  /** Row stride of x_proj outputs: r + 2n rounded up to a multiple of 4. */
  readonly p: number;
  readonly vexp: Kernel;
  readonly convSilu: Kernel;
  readonly convSiluBackward: Kernel;
  readonly xProj: Kernel;
  readonly xProjBackward: Kernel;
  readonly dtSoftplus: Kernel;
  readonly dtSoftplusBackward: Kernel;
  readonly scanForward: Kernel;
  readonly scanBackward: Kernel;
  readonly gate: Kernel;
  readonly gateBackward: Kernel;
}

const compiled = new Map<string, CoreKernels>();

/** The kernels for state size n (a multiple of 4), dt rank r and conv width w, compiled on first use (a few ms). */
export function coreKernels(n: number, r: number, w: number): CoreKernels {
  if (!Number.isInteger(n) || n <= 0 || n % 4 !== 0) {
    throw new Error(`the Mamba kernels need a state size n that is a multiple of 4, got ${n}`);
  }
  for (const [name, v] of [["dt rank r", r], ["conv width w", w]] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`the Mamba kernels need a ${name} >= 1, got ${v}`);
  }
  const key = `${n},${r},${w}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const p = Math.ceil((r + 2 * n) / 4) * 4;
  const fns = [
    vExpKernel(),
    convSiluKernel(w),
    convSiluBackwardKernel(w),
    xProjKernel(p),
    xProjBackwardKernel(r + 2 * n, p),
    dtSoftplusKernel(r, p),
    dtSoftplusBackwardKernel(r, p),
    scanForwardKernel(n),
    scanBackwardKernel(n),
    gateKernel(),
    gateBackwardKernel(),
  ];
  const ex = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(fns))).exports;
  const k = (name: string): Kernel => ex[name] as Kernel;
  const kernels: CoreKernels = {
    memory: ex.memory as WebAssembly.Memory,
    p,
    vexp: k("vexp"),
    convSilu: k("conv_silu"),
    convSiluBackward: k("conv_silu_backward"),
    xProj: k("x_proj"),
    xProjBackward: k("x_proj_backward"),
    dtSoftplus: k("dt_softplus"),
    dtSoftplusBackward: k("dt_softplus_backward"),
    scanForward: k("scan_forward"),
    scanBackward: k("scan_backward"),
    gate: k("gate"),
    gateBackward: k("gate_backward"),
  };
  compiled.set(key, kernels);
  return kernels;
}

/**
 * Lay out named float regions (16-byte aligned) in a kernel memory, growing it if needed, and return their
 * byte offsets. Views taken before a `reserve` may be stale after it (growing detaches the old buffer).
 */
export function reserve<K extends string>(memory: WebAssembly.Memory, sizes: Record<K, number>): Record<K, number> {
  const offsets = {} as Record<K, number>;
  let end = 0;
  for (const key of Object.keys(sizes) as K[]) {
    offsets[key] = end;
    end += Math.ceil(sizes[key] / 4) * 16;
  }
  if (end > 2 ** 31) {
    throw new Error(
      `the Mamba kernels would need ${(end / 2 ** 30).toFixed(1)} GiB of memory (limit 2 GiB): use smaller batches`,
    );
  }
  const pages = Math.ceil(end / 65536);
  const have = memory.buffer.byteLength / 65536;
  if (pages > have) memory.grow(pages - have);
  return offsets;
}

/** A Float32Array view of `size` floats at byte `offset` of the memory (no copy). */
export function view(memory: WebAssembly.Memory, offset: number, size: number): Float32Array {
  return new Float32Array(memory.buffer, offset, size);
}

/**
 * A copy of `size` floats at byte `offset` of the memory. (`view(...).slice()` measured ~5x slower here than
 * allocating and `set`: 14 ms vs 3 ms for 18 MB.)
 */
export function copyOut(memory: WebAssembly.Memory, offset: number, size: number): Float32Array {
  const out = new Float32Array(size);
  out.set(view(memory, offset, size));
  return out;
}

/** exp of each element through the kernels' vectorised exp (exposed so its error bound can be tested). */
export function vectorExp(x: Float32Array): Float32Array {
  const k = coreKernels(4, 1, 4);
  const count = Math.ceil(x.length / 4) * 4;
  const at = reserve(k.memory, { x: count, out: count });
  view(k.memory, at.x, count).fill(0).set(x);
  k.vexp(at.x, at.out, count);
  return copyOut(k.memory, at.out, x.length);
}
