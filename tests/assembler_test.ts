import assert from "node:assert/strict";
import {
  forUp,
  fStore,
  I32,
  iAdd,
  iConst,
  iMul,
  instantiate,
  Locals,
  reserve,
  seq,
  sleb,
  uleb,
  V128,
  vAnd,
  vExpKernel,
  view,
  vLane,
  vLoad,
  vMadd,
  vSelect,
  vShuffle,
  vStore,
  vSum,
  vSum4,
  vSumPair,
  vSumReference,
  type WasmFunction,
} from "../lib/kernels/assembler.ts";
import { mt19937 } from "../lib/task/random.ts";

Deno.test("LEB128 encodes the spec's examples", () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
});

/** out[i] = a * x[i] + b over `count` floats (a multiple of 4), with a and b hoisted splats. */
function axpbKernel(a: number, b: number): WasmFunction {
  const L = new Locals(["x", "out", "count"]);
  L.declare("i", I32);
  const body = forUp(
    L,
    "i",
    iConst(0),
    iMul(L.get("count"), iConst(4)), // bytes
    16,
    vStore(iAdd(L.get("out"), L.get("i")), vMadd(vLoad(iAdd(L.get("x"), L.get("i"))), L.splat(a), L.splat(b))),
  );
  return { name: "axpb", locals: L, body };
}

/**
 * Lane tools on the four vectors at `src` (16 floats), results at `dst`: dst[0..3] = lane sums (vSum4),
 * dst[4..7] = shuffle of vectors 0 and 1 with lanes [7, 0, 5, 2], dst[8..11] = vector 0 where the mask
 * [-1, 0, -1, 0] is set, else vector 1, dst[12..15] = vector 2 and the mask [0, -1, -1, 0].
 */
function laneKernel(): WasmFunction {
  const L = new Locals(["src", "dst"]);
  L.declare("v", V128);
  const at = (i: number): number[] => vLoad(L.get("src"), 16 * i);
  const body = seq(
    vStore(L.get("dst"), vSum4(L, at(0), at(1), at(2), at(3))),
    vStore(L.get("dst"), vShuffle(at(0), at(1), [7, 0, 5, 2]), 16),
    vStore(L.get("dst"), vSelect(at(0), at(1), L.lanes([-1, 0, -1, 0], "i32")), 32),
    vStore(L.get("dst"), vAnd(at(2), L.lanes([0, -1, -1, 0], "i32")), 48),
  );
  return { name: "lanes", locals: L, body };
}

Deno.test("a kernel built from the instruction builders computes a * x + b on four lanes at a time", () => {
  const { memory, kernel } = instantiate([axpbKernel(2, 0.5)]);
  const at = reserve(memory, { x: 12, out: 12 });
  const x = Float32Array.from({ length: 12 }, (_, i) => i - 3);
  view(memory, at.x, 12).set(x);
  kernel("axpb")(at.x, at.out, 12);
  assert.deepEqual([...view(memory, at.out, 12)], [...x].map((v) => 2 * v + 0.5));
});

Deno.test("lane sums, shuffles, selects and masks move the lanes the builders document", () => {
  const { memory, kernel } = instantiate([laneKernel()]);
  const at = reserve(memory, { src: 16, dst: 16 });
  const src = Float32Array.from({ length: 16 }, (_, i) => i + 1); // vectors [1..4], [5..8], [9..12], [13..16]
  view(memory, at.src, 16).set(src);
  kernel("lanes")(at.src, at.dst);
  const out = [...view(memory, at.dst, 16)];
  assert.deepEqual(out.slice(0, 4), [10, 26, 42, 58]);
  assert.deepEqual(out.slice(4, 8), [8, 1, 6, 3]);
  assert.deepEqual(out.slice(8, 12), [1, 6, 3, 8]);
  assert.deepEqual(out.slice(12, 16), [0, 10, 11, 0]);
});

Deno.test("reserve gives the same offsets for the same sizes and grows memory only for larger layouts", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const first = reserve(memory, { a: 10, b: 100_000 });
  assert.equal(first.a, 0);
  assert.equal(first.b, 48); // 10 floats rounded up to 12 (16-byte alignment)
  const grown = memory.buffer.byteLength;
  assert.ok(grown >= 48 + 400_000);
  assert.deepEqual(reserve(memory, { a: 10, b: 100_000 }), first);
  reserve(memory, { a: 10, b: 5 });
  assert.equal(memory.buffer.byteLength, grown);
  assert.throws(() => reserve(memory, { huge: 2 ** 30 }), /GiB/);
});

/**
 * For each pair of vectors (a, b) at src + 32 k (k < count): dst + 16 k gets [vSum(a), vSumReference(a),
 * vSumPair's sum(a), vSumPair's sum(b)].
 */
function sumsKernel(): WasmFunction {
  const L = new Locals(["src", "dst", "count"]);
  for (const name of ["k", "s", "d"]) L.declare(name, I32);
  for (const name of ["a", "b", "pair"]) L.declare(name, V128);
  const body = seq(
    L.set("s", iAdd(L.get("src"), iMul(L.get("k"), iConst(32)))),
    L.set("d", iAdd(L.get("dst"), iMul(L.get("k"), iConst(16)))),
    L.set("a", vLoad(L.get("s"))),
    L.set("b", vLoad(L.get("s"), 16)),
    fStore(L.get("d"), vSum(L, "a")),
    fStore(L.get("d"), vSumReference(L, "a"), 4),
    vSumPair(L, "a", "b", "pair"),
    fStore(L.get("d"), vLane(L.get("pair"), 0), 8),
    fStore(L.get("d"), vLane(L.get("pair"), 2), 12),
  );
  return { name: "sums", locals: L, body: forUp(L, "k", iConst(0), L.get("count"), 1, body) };
}

Deno.test("vSum and vSumPair give the bits of (x0 + x1) + (x2 + x3) from extracted lanes, for any magnitudes", () => {
  const { memory, kernel } = instantiate([sumsKernel()]);
  const count = 4096;
  const at = reserve(memory, { src: 8 * count, dst: 4 * count });
  const rng = mt19937(12);
  const src = view(memory, at.src, 8 * count);
  // mixed signs and exponents, so that rounding differs between summation orders; some exact zeros of both signs
  for (let i = 0; i < src.length; i++) {
    const r = rng.double();
    src[i] = r < 0.02 ? (i % 2 ? -0 : 0) : rng.gaussian() * 2 ** Math.floor(40 * rng.double() - 20);
  }
  kernel("sums")(at.src, at.dst, count);
  const dst = view(memory, at.dst, 4 * count), again = view(memory, at.src, 8 * count);
  const plain = (x: Float32Array, o: number): number =>
    Math.fround(Math.fround(x[o] + x[o + 1]) + Math.fround(x[o + 2] + x[o + 3]));
  let orderMatters = 0;
  for (let k = 0; k < count; k++) {
    const a = plain(again, 8 * k), b = plain(again, 8 * k + 4);
    assert.ok(Object.is(dst[4 * k + 1], a), `vSumReference at ${k}`);
    assert.ok(Object.is(dst[4 * k], a), `vSum at ${k}: ${dst[4 * k]} vs ${a}`);
    assert.ok(Object.is(dst[4 * k + 2], a), `vSumPair's first sum at ${k}`);
    assert.ok(Object.is(dst[4 * k + 3], b), `vSumPair's second sum at ${k}`);
    const other = Math.fround(
      Math.fround(Math.fround(again[8 * k] + again[8 * k + 1]) + again[8 * k + 2]) + again[8 * k + 3],
    );
    if (!Object.is(other, a)) orderMatters++;
  }
  assert.ok(orderMatters > count / 10, `the inputs should tell summation orders apart (${orderMatters} of ${count})`);
});

Deno.test("vExp's integer exponent add gives the multiplying form's bits on every input, range edges and k boundaries included", () => {
  const { memory, kernel } = instantiate([vExpKernel(), vExpKernel(true)]);
  const xs: number[] = [0, -0, 1e-30, -1e-30, -87, -87.5, -100, -1e30, 88, 88.5, 100, Infinity, -Infinity];
  // both sides of every rounding boundary of k = round(x log2 e), a few float32 steps each way
  for (let k = -127; k <= 128; k++) {
    const edge = Math.fround((k + 0.5) * Math.LN2);
    const bits = new Float32Array([edge]);
    const asInt = new Int32Array(bits.buffer);
    for (let step = -4; step <= 4; step++) {
      const probe = new Int32Array([asInt[0] + step]);
      xs.push(new Float32Array(probe.buffer)[0]);
    }
  }
  // and a dense sweep of the whole clamped range with random mantissas
  const rng = mt19937(21);
  for (let i = 0; i < 1 << 20; i++) xs.push(-100 + 200 * rng.double());
  const count = Math.ceil(xs.length / 4) * 4;
  const at = reserve(memory, { x: count, fast: count, multiplied: count });
  view(memory, at.x, count).fill(0).set(xs);
  kernel("vexp")(at.x, at.fast, count);
  kernel("vexp_multiply")(at.x, at.multiplied, count);
  const fast = new Int32Array(memory.buffer, at.fast, count),
    slow = new Int32Array(memory.buffer, at.multiplied, count);
  for (let i = 0; i < xs.length; i++) assert.equal(fast[i], slow[i], `exp(${xs[i]}): bits ${fast[i]} vs ${slow[i]}`);
  // the canonical NaN stays NaN
  view(memory, at.x, 4).set([NaN, NaN, NaN, NaN]);
  kernel("vexp")(at.x, at.fast, 4);
  assert.ok(Number.isNaN(view(memory, at.fast, 1)[0]));
});
