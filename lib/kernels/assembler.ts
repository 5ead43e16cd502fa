/**
 * A tiny WebAssembly assembler for SIMD kernels: TypeScript functions that return instruction bytes, composed
 * by concatenation, and `encodeModule`, which wraps functions built from them into a module. Kernels are
 * generated as bytes at first use (no build step, no dependency), specialised to sizes known at that time
 * (a state size, a head dim), and run on typed-array views of the module's own memory (`reserve`, `view`,
 * `copyOut`). Users: lib/kernels/mamba_kernels.ts and lib/kernels/attention_kernels.ts.
 *
 * How code is written. WebAssembly is a stack machine: an instruction pops its operands and pushes its result.
 * So an expression is the bytes of its operands followed by its own opcode, and builders nest like the math:
 *   vMadd(L.get("a"), vLoad(L.get("ptr"), 16), L.splat(1))   // a * load(ptr + 16) + 1, four f32 lanes
 * is `local.get a; local.get ptr; v128.load offset=16; local.get <the hoisted 1.0 splat>; f32x4.relaxed_madd`.
 * A `Code` is such a byte array; statements (`L.set`, `vStore`, loops) leave nothing on the stack and are
 * joined with `seq`. `Locals` names a function's i32 parameters and its locals (declared on first use;
 * `L.splat(c)` hoists a constant vector into a local set once at entry). Loops (`forUp`, `forDown`) count an
 * i32 local; `unroll` repeats code at generation time, which is how sizes known at generation (n, k) become
 * straight-line code with constant memory offsets. All pointers are byte offsets into the module's memory.
 * A kernel is `{ name, locals, body }`; `encodeModule` emits one exported memory and the kernels as exported
 * functions with i32 parameters and no result, and `instantiate` compiles it.
 *
 * How to add an instruction. Find its opcode in the WebAssembly spec (core: "Binary Format > Instructions";
 * SIMD: the 0xfd-prefixed table, opcode written as unsigned LEB128 after the prefix; relaxed SIMD likewise).
 * Write a builder that emits the operands, then the opcode, then the immediates, e.g. f32x4.sqrt (0xfd 0xe3):
 *   export function vSqrt(a: Code): number[] { return seq(a, simd(0xe3)); }
 * Memory instructions take a memarg immediate: alignment as log2 bytes (2 here: 4-byte alignment is all we
 * promise), then the constant offset as unsigned LEB128 (see `vLoad`). Check the result with a tiny kernel in
 * tests/assembler_test.ts: a wrong byte shows as a `WebAssembly.Module` compile error naming the function
 * and byte offset, or as wrong numbers.
 *
 * Engine notes (V8): a `v128.const` inside a loop is rebuilt by several instructions each time, hence
 * `L.splat`; pmin/pmax compile to one x86 instruction where min/max need NaN fix-ups; the fused
 * multiply-add `f32x4.relaxed_madd` is used when the engine validates it (`vMadd`).
 */

/** Instruction bytes: an expression (leaves one value) or a statement (leaves none). */
export type Code = readonly number[];

/** Value type bytes. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
/** A local's type. */
export type ValType = typeof I32 | typeof F32 | typeof V128;

/** Unsigned LEB128 (sizes, indices, memarg offsets). */
export function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (the immediate of i32.const). */
export function sleb(value: number): number[] {
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

/** Concatenate code in execution order. */
export function seq(...parts: Code[]): number[] {
  return parts.flat();
}

/** The four little-endian bytes of x as a float32 or an int32. */
export function bytesOf(x: number, type: "f32" | "i32"): number[] {
  const array = type === "f32" ? new Float32Array([x]) : new Int32Array([x]);
  return [...new Uint8Array(array.buffer)];
}

/** 0xfd-prefixed SIMD instruction: opcode as LEB128, then immediates. */
export function simd(op: number, ...immediates: number[]): number[] {
  return [0xfd, ...uleb(op), ...immediates];
}

/** v128.const with four equal lanes (prefer `Locals.splat` inside loops). */
export function vConst(x: number, type: "f32" | "i32"): number[] {
  const b = bytesOf(x, type);
  return simd(0x0c, ...b, ...b, ...b, ...b);
}

/** v128.const with the four given lanes (prefer `Locals.lanes` inside loops). */
export function vConstLanes(values: readonly number[], type: "f32" | "i32"): number[] {
  if (values.length !== 4) throw new Error(`a v128 constant has 4 lanes, got ${values.length}`);
  return simd(0x0c, ...values.flatMap((v) => bytesOf(v, type)));
}

/** Named parameters (all i32) and locals of one function under construction. */
export class Locals {
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

  /** Types of the declared locals (not the parameters), in index order. */
  get types(): readonly ValType[] {
    return this.#localTypes;
  }

  /** Code run once at function entry (hoisted constants). */
  get prologue(): readonly number[] {
    return this.#prologue;
  }

  /** local.get of a parameter or declared local. */
  get(name: string): number[] {
    const i = this.#index.get(name);
    if (i === undefined) throw new Error(`wasm local ${name} not declared`);
    return [0x20, ...uleb(i)];
  }

  /** local.set: the statement `name = value`. */
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

  /** Like `splat`, for a constant with four different lanes (e.g. a lane mask). */
  lanes(values: readonly number[], type: "f32" | "i32" = "f32"): number[] {
    const name = `${type}:[${values.join(",")}]`;
    if (!this.#index.has(name)) {
      this.declare(name, V128);
      this.#prologue.push(...this.set(name, vConstLanes(values, type)));
    }
    return this.get(name);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scalars.

// i32 (addresses in bytes, counters)
/** i32.const n. */
export function iConst(n: number): number[] {
  return [0x41, ...sleb(n)];
}
/** a + b (i32). */
export function iAdd(a: Code, b: Code): number[] {
  return seq(a, b, [0x6a]);
}
/** a - b (i32). */
export function iSub(a: Code, b: Code): number[] {
  return seq(a, b, [0x6b]);
}
/** a * b (i32). */
export function iMul(a: Code, b: Code): number[] {
  return seq(a, b, [0x6c]);
}
/** a >> b, unsigned (i32). */
export function iShrU(a: Code, b: Code): number[] {
  return seq(a, b, [0x76]);
}
/** a & b (i32). */
export function iAnd(a: Code, b: Code): number[] {
  return seq(a, b, [0x71]);
}
/** Byte address base + the named byte offsets (all i32 locals). */
export function at(L: Locals, base: string, ...offsets: string[]): number[] {
  return offsets.reduce((addr: number[], o) => iAdd(addr, L.get(o)), L.get(base));
}

// f32 scalars
/** f32.const x. */
export function fConst(x: number): number[] {
  return [0x43, ...bytesOf(x, "f32")];
}
/**
 * How a memory instruction at byte address base + constant is emitted:
 * - "explicit" (the default): `i32.add base, constant`, then the instruction with offset immediate 0;
 * - "immediate": base, then the instruction with the constant as its offset immediate.
 * Every in-bounds access reads or writes the same bytes either way, so kernels compute the same bits. The
 * difference is V8's code: this engine checks every access's bounds explicitly (Deno installs no trap handler),
 * comparing the index against mem_size - (offset + width), and each distinct offset immediate needs its own limit
 * value. The scan kernels use a dozen (four vectors of 16 states at offsets 0, 16, 32, 48 in several arrays),
 * which ran out of x64 registers: V8 spilled the limits and compared against the stack. With explicit adds every
 * access of one width shares one limit. Measured at d = 8 (main's kernels and these, compiled side by side in one
 * process and alternated on the same inputs, 170 calls each, 2026-12-02): the stored scan backward min 0.89 ->
 * 0.82 ms, its last-position form 0.63 -> 0.59, x_proj 0.097 -> 0.088, the forward scan 0.717 -> 0.713.
 * `setOffsetMode` is for tests that compare the two.
 */
export type OffsetMode = "explicit" | "immediate";
let offsetMode: OffsetMode = "explicit";

/** Set how kernels generated from now on emit address offsets; returns the previous mode. */
export function setOffsetMode(mode: OffsetMode): OffsetMode {
  const previous = offsetMode;
  offsetMode = mode;
  return previous;
}

/** How kernels generated now emit address offsets (part of a compiled module's cache key). */
export function currentOffsetMode(): OffsetMode {
  return offsetMode;
}

/** A memory instruction's address operand and memarg (alignment exponent, offset) for addr + offset. */
function memArg(addr: Code, offset: number, align: number): { address: number[]; arg: number[] } {
  if (offsetMode === "explicit" && offset !== 0) return { address: iAdd(addr, iConst(offset)), arg: [align, 0] };
  return { address: [...addr], arg: [align, ...uleb(offset)] };
}

/** f32.load from byte address addr + offset. */
export function fLoad(addr: Code, offset = 0): number[] {
  const { address, arg } = memArg(addr, offset, 2);
  return seq(address, [0x2a, ...arg]);
}
/** f32.store value at byte address addr + offset. */
export function fStore(addr: Code, value: Code, offset = 0): number[] {
  const { address, arg } = memArg(addr, offset, 2);
  return seq(address, value, [0x38, ...arg]);
}
/** a + b (f32). */
export function fAdd(a: Code, b: Code): number[] {
  return seq(a, b, [0x92]);
}
/** a * b (f32). */
export function fMul(a: Code, b: Code): number[] {
  return seq(a, b, [0x94]);
}
/** a - b (f32). */
export function fSub(a: Code, b: Code): number[] {
  return seq(a, b, [0x93]);
}
/** a / b (f32). */
export function fDiv(a: Code, b: Code): number[] {
  return seq(a, b, [0x95]);
}
/** sqrt(a) (f32, correctly rounded). */
export function fSqrt(a: Code): number[] {
  return seq(a, [0x91]);
}

// ---------------------------------------------------------------------------------------------------------
// f32x4 vectors. Memory alignment hints say 4 bytes: rows of the callers' arrays need not be 16-byte aligned.

/** v128.load from addr + offset. */
export function vLoad(addr: Code, offset = 0): number[] {
  const { address, arg } = memArg(addr, offset, 2);
  return seq(address, simd(0x00, ...arg));
}
/** v128.store at addr + offset. */
export function vStore(addr: Code, value: Code, offset = 0): number[] {
  const { address, arg } = memArg(addr, offset, 2);
  return seq(address, value, simd(0x0b, ...arg));
}
/** Load one float into all four lanes (v128.load32_splat). */
export function vLoadSplat(addr: Code, offset = 0): number[] {
  const { address, arg } = memArg(addr, offset, 2);
  return seq(address, simd(0x09, ...arg));
}
/** An f32 scalar in all four lanes. */
export function vSplat(scalar: Code): number[] {
  return seq(scalar, simd(0x13));
}
/** a + b, lane-wise. */
export function vAdd(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe4));
}
/** a - b, lane-wise. */
export function vSub(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe5));
}
/** a * b, lane-wise. */
export function vMul(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe6));
}
/** a / b, lane-wise. */
export function vDiv(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xe7));
}
/** |a|, lane-wise. */
export function vAbs(a: Code): number[] {
  return seq(a, simd(0xe0));
}
/** Lane-wise b < a ? b : a (one x86 minps; differs from f32x4.min only for NaN and signed zeros). */
export function vPmin(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xea));
}
/** Lane-wise a < b ? b : a (one x86 maxps). */
export function vPmax(a: Code, b: Code): number[] {
  return seq(a, b, simd(0xeb));
}
/** One lane of a vector, as an f32. */
export function vLane(a: Code, lane: number): number[] {
  return seq(a, simd(0x1f, lane));
}
/** Bitwise a & b (v128.and): with an all-ones / all-zeros lane mask, keeps or zeroes lanes. */
export function vAnd(a: Code, b: Code): number[] {
  return seq(a, b, simd(0x4e));
}
/** Bitwise (a & mask) | (b & ~mask) (v128.bitselect): per lane, a where the mask is all ones, else b. */
export function vSelect(a: Code, b: Code, mask: Code): number[] {
  return seq(a, b, mask, simd(0x52));
}
/**
 * A vector whose lane i is lane `lanes[i]` of the eight lanes a0..a3, b0..b7 (i8x16.shuffle with the 32-bit
 * lane indices expanded to byte indices).
 */
export function vShuffle(a: Code, b: Code, lanes: readonly number[]): number[] {
  if (lanes.length !== 4 || lanes.some((i) => i < 0 || i > 7)) throw new Error(`bad shuffle lanes ${lanes}`);
  return seq(a, b, simd(0x0d, ...lanes.flatMap((i) => [4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3])));
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
export function vMadd(a: Code, b: Code, c: Code): number[] {
  return HAS_MADD ? seq(a, b, c, simd(0x105)) : vAdd(vMul(a, b), c);
}

/** dst[addr] += a * b (vectors in memory). */
export function vAccumulate(addr: Code, a: Code, b: Code, offset = 0): number[] {
  return vStore(addr, vMadd(a, b, vLoad(addr, offset)), offset);
}

/**
 * Sum of the four lanes of a vector local, (x0 + x1) + (x2 + x3), as two in-register shuffles and adds (local
 * sumS): the same three float32 additions as summing the extracted lanes, so the same bits (addition commutes
 * exactly), in four vector instructions instead of three extracts and three scalar adds.
 * `vSumReference` is that scalar form, kept for the test that compares the two.
 */
export function vSum(L: Locals, name: string): number[] {
  L.declare("sumS", V128);
  return seq(
    L.set("sumS", vAdd(L.get(name), vShuffle(L.get(name), L.get(name), [1, 0, 3, 2]))), // [x0 + x1, ., x2 + x3, .]
    vLane(vAdd(L.get("sumS"), vShuffle(L.get("sumS"), L.get("sumS"), [2, 3, 0, 1])), 0),
  );
}

/** (x0 + x1) + (x2 + x3) of a vector local from its extracted lanes (the plain form of `vSum`). */
export function vSumReference(L: Locals, name: string): number[] {
  return fAdd(fAdd(vLane(L.get(name), 0), vLane(L.get(name), 1)), fAdd(vLane(L.get(name), 2), vLane(L.get(name), 3)));
}

/**
 * The lane sums of two vector locals at once, each (x0 + x1) + (x2 + x3) as in `vSum`: sets local `into` to a
 * vector whose lane 0 is sum(a) and lane 2 sum(b) (read them with vLane). Three shuffles and two adds instead of
 * six extracts and six scalar adds; the same additions, so the same bits.
 */
export function vSumPair(L: Locals, a: string, b: string, into: string): number[] {
  L.declare("sumP", V128);
  return seq(
    // [a0 + a1, a2 + a3, b0 + b1, b2 + b3]
    L.set("sumP", vAdd(vShuffle(L.get(a), L.get(b), [0, 2, 4, 6]), vShuffle(L.get(a), L.get(b), [1, 3, 5, 7]))),
    L.set(into, vAdd(L.get("sumP"), vShuffle(L.get("sumP"), L.get("sumP"), [1, 0, 3, 2]))),
  );
}

/**
 * The lane sums of four vectors as one vector, [sum(a), sum(b), sum(c), sum(d)]: a 4x4 transpose-and-add in
 * six shuffles and adds instead of four separate horizontal sums. Uses locals sumA, sumB, sumAB.
 */
export function vSum4(L: Locals, a: Code, b: Code, c: Code, d: Code): number[] {
  for (const name of ["sumA", "sumB", "sumAB"]) L.declare(name, V128);
  // [x0 + x2, x1 + x3, y0 + y2, y1 + y3] of the vector locals sumA = x, sumB = y
  const pairs = (): number[] =>
    vAdd(
      vShuffle(L.get("sumA"), L.get("sumB"), [0, 1, 4, 5]),
      vShuffle(L.get("sumA"), L.get("sumB"), [2, 3, 6, 7]),
    );
  return seq(
    L.set("sumA", a),
    L.set("sumB", b),
    L.set("sumAB", pairs()),
    L.set("sumA", c),
    L.set("sumB", d),
    L.set("sumB", pairs()), // cd
    vAdd(
      vShuffle(L.get("sumAB"), L.get("sumB"), [0, 2, 4, 6]),
      vShuffle(L.get("sumAB"), L.get("sumB"), [1, 3, 5, 7]),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Control flow.

/** `for (i = from; i < to; i += step) body` over i32 locals. */
export function forUp(L: Locals, i: string, from: Code, to: Code, step: number, body: Code): number[] {
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
export function forDown(L: Locals, i: string, from: Code, to: Code, body: Code): number[] {
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
export function unroll(count: number, body: (v: number) => Code): number[] {
  return Array.from({ length: count }, (_, v) => body(v)).flat();
}

/** `if (cond) body` (cond an i32 expression). */
export function ifThen(cond: Code, body: Code): number[] {
  return seq(cond, [0x04, 0x40], body, [0x0b]);
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
 *
 * The last step, poly 2^k, adds k to poly's exponent field (an integer add) instead of multiplying by the float
 * 2^k: the same bits, with one multiply fewer on the two FMA/multiply pipes that bound the forward scan. Exact
 * because the product never leaves the normal range: poly is in [0.70, 1.42] (exponent -1 or 0), k in
 * [-126, 127], and k = -126 only for x <= -125.5 ln2, where x >= -87 leaves f = x + 126 ln2 >= 0.33 and
 * poly >= 1.39; k = 127 only for x >= 126.5 ln2, where x <= 88 leaves f <= -0.03 and poly < 1. (A canonical NaN
 * input stays NaN: its k bits shift out to 0.) `vExpMultiply` is the multiplying form, kept for the test that
 * compares the two on every k and both edges of each rounding boundary (tests/assembler_test.ts).
 */
export function vExp(L: Locals, x: Code, nonPositive = false): number[] {
  return vExpWith(L, x, nonPositive, false);
}

/** `vExp` ending with the float multiply by 2^k (its form before 2026-12-02). */
export function vExpMultiply(L: Locals, x: Code, nonPositive = false): number[] {
  return vExpWith(L, x, nonPositive, true);
}

function vExpWith(L: Locals, x: Code, nonPositive: boolean, multiply: boolean): number[] {
  for (const name of ["expX", "expT", "expK", "expF"]) L.declare(name, V128);
  let poly = L.splat(1 / 720);
  for (const c of [1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]) poly = vMadd(poly, L.get("expF"), L.splat(c));
  const shiftedK = (bias: number): number[] =>
    seq(
      L.get("expT"), // bits: ROUNDER_BITS + k
      L.splat(bias - ROUNDER_BITS, "i32"),
      simd(0xae), // i32x4.add
      iConst(23),
      simd(0xab), // i32x4.shl: (bias + k) in the exponent field
    );
  return seq(
    L.set("expX", vPmax(nonPositive ? x : vPmin(x, L.splat(EXP_HIGHEST)), L.splat(EXP_LOWEST))),
    L.set("expT", vMadd(L.get("expX"), L.splat(Math.LOG2E), L.splat(ROUNDER))),
    L.set("expK", vSub(L.get("expT"), L.splat(ROUNDER))),
    L.set("expF", vMadd(L.get("expK"), L.splat(-LN2_HI), L.get("expX"))),
    L.set("expF", vMadd(L.get("expK"), L.splat(-LN2_LO), L.get("expF"))),
    multiply
      ? vMul(poly, shiftedK(127)) // times the float32 2^k
      : seq(poly, shiftedK(0), simd(0xae)), // i32x4.add: k added to poly's exponent
  );
}

/** 1 / (1 + exp(-x)) of a vector local. */
export function vSigmoid(L: Locals, x: string): number[] {
  return vDiv(L.splat(1), vAdd(L.splat(1), vExp(L, vSub(L.splat(0), L.get(x)))));
}

/** silu'(x) = s (1 + x (1 - s)) for x and s = sigmoid(x) in vector locals. */
export function vSiluSlope(L: Locals, x: string, s: string): number[] {
  return vMul(L.get(s), vMadd(L.get(x), vSub(L.splat(1), L.get(s)), L.splat(1)));
}

/**
 * softplus(x) = max(x, 0) + log1p(q) with q = exp(-|x|) in (0, 1]; log1p(q) = 2 atanh(w) with
 * w = q / (2 + q) <= 1/3, summed up to w^13 / 13 (truncation < (1/3)^14 / 15 ~ 1.4e-8 relative).
 */
export function vSoftplus(L: Locals, x: string): number[] {
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

// ---------------------------------------------------------------------------------------------------------
// Modules.

/** One function of a module: exported under `name`, i32 parameters as declared in `locals`, no result. */
export interface WasmFunction {
  readonly name: string;
  readonly locals: Locals;
  readonly body: Code;
}

/**
 * Test hook kernel "vexp": exp of `count` (a multiple of 4) floats through `vExp` ("vexp_multiply" with
 * `multiply`: through `vExpMultiply`). Params: x, out, count.
 */
export function vExpKernel(multiply = false): WasmFunction {
  const L = new Locals(["x", "out", "count"]);
  L.declare("i", I32);
  const exp = multiply ? vExpMultiply : vExp;
  const body = forUp(
    L,
    "i",
    iConst(0),
    iMul(L.get("count"), iConst(4)),
    16,
    vStore(iAdd(L.get("out"), L.get("i")), exp(L, vLoad(iAdd(L.get("x"), L.get("i"))))),
  );
  return { name: multiply ? "vexp_multiply" : "vexp", locals: L, body };
}

function section(id: number, content: Code): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vec(items: Code[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A module with one exported memory ("memory") and the given exported functions (i32 params, no result). */
export function encodeModule(functions: readonly WasmFunction[]): Uint8Array<ArrayBuffer> {
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

/** A kernel call: byte offsets into the module's memory and integer sizes, in the order its doc lists. */
export type Kernel = (...args: number[]) => void;

/** A compiled module: its memory and its kernels by name. */
export interface Instance {
  readonly memory: WebAssembly.Memory;
  readonly kernel: (name: string) => Kernel;
}

/** Encode, compile and instantiate a module of the given functions (synchronously; a few ms). */
export function instantiate(functions: readonly WasmFunction[]): Instance {
  const exports = new WebAssembly.Instance(new WebAssembly.Module(encodeModule(functions))).exports;
  return {
    memory: exports.memory as WebAssembly.Memory,
    kernel: (name: string): Kernel => {
      const f = exports[name];
      if (typeof f !== "function") throw new Error(`wasm module has no kernel ${name}`);
      return f as Kernel;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Kernel memory.

/** Bytes that `reserve` lays out for these float regions (each rounded up to 16 bytes). */
export function regionBytes(sizes: Record<string, number>): number {
  return Object.values(sizes).reduce((sum, size) => sum + Math.ceil(size / 4) * 16, 0);
}

/**
 * Lay out named float regions (16-byte aligned) in a kernel memory from byte `base` (a multiple of 16),
 * growing it if needed, and return their byte offsets. The same sizes and base give the same offsets, and
 * memory never grows beyond the largest layout asked for. Views taken before a `reserve` may be stale after
 * it (growing detaches the old buffer).
 */
export function reserve<K extends string>(
  memory: WebAssembly.Memory,
  sizes: Record<K, number>,
  base = 0,
): Record<K, number> {
  if (base % 16 !== 0) throw new Error(`reserve: base ${base} is not a multiple of 16`);
  const offsets = {} as Record<K, number>;
  let end = base;
  for (const key of Object.keys(sizes) as K[]) {
    offsets[key] = end;
    end += Math.ceil(sizes[key] / 4) * 16;
  }
  if (end > 2 ** 31) {
    throw new Error(
      `the wasm kernels would need ${(end / 2 ** 30).toFixed(1)} GiB of memory (limit 2 GiB): use smaller batches`,
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
