/**
 * Matrix transpose of a float32 tensor as a WebAssembly SIMD kernel: 4 x 4 blocks, each read as four row
 * vectors and written as four column vectors after eight lane shuffles.
 *
 * Why: `linear`'s gradient needs x^T and w^T as plain tensors (matMul with transpose flags leaves the fast
 * path on wasm), and tfjs-wasm's own Transpose took ~3.1 ms for [4096, 128] and ~0.9 ms for [4096, 64] here,
 * ~12 ms of a Mamba d = 64 training step. The kernel itself is memory-bound; copying the input in and the
 * result out dominates its cost.
 *
 * Glossary: r rows, c columns of the input (both multiples of 4 for the kernel; other shapes use tf's).
 */
import * as tf from "@tensorflow/tfjs";
import {
  forUp,
  iAdd,
  iConst,
  iMul,
  instantiate,
  type Kernel,
  Locals,
  reserve,
  seq,
  view,
  vLoad,
  vShuffle,
  vStore,
} from "./assembler.ts";
import type { WasmFunction } from "./assembler.ts";
import { floats, tensorOf } from "./tensor_io.ts";

/**
 * dst [c, r] = src [r, c]^T for r, c multiples of 4. Params: src, dst, r, c (byte offsets, then sizes).
 * Walks the input four rows at a time, left to right, so reads are sequential and the c / 4 written column
 * blocks stay in cache.
 */
function transposeKernel(): WasmFunction {
  const L = new Locals(["src", "dst", "r", "c"]);
  for (const name of ["i", "j", "rowB", "colB", "in", "out"]) L.declare(name, 0x7f);
  for (const name of ["a0", "a1", "a2", "a3", "t0", "t1", "t2", "t3"]) L.declare(name, 0x7b);
  const rowLoad = (k: number): number[] => vLoad(iAdd(L.get("in"), iMul(L.get("rowB"), iConst(k))));
  const colStore = (k: number, value: number[]): number[] =>
    vStore(iAdd(L.get("out"), iMul(L.get("colB"), iConst(k))), value);
  const block = seq(
    L.set("in", iAdd(L.get("src"), iAdd(iMul(L.get("i"), L.get("rowB")), iMul(L.get("j"), iConst(4))))),
    L.set("out", iAdd(L.get("dst"), iAdd(iMul(L.get("j"), L.get("colB")), iMul(L.get("i"), iConst(4))))),
    L.set("a0", rowLoad(0)),
    L.set("a1", rowLoad(1)),
    L.set("a2", rowLoad(2)),
    L.set("a3", rowLoad(3)),
    L.set("t0", vShuffle(L.get("a0"), L.get("a1"), [0, 4, 1, 5])), // a00 a10 a01 a11
    L.set("t1", vShuffle(L.get("a0"), L.get("a1"), [2, 6, 3, 7])), // a02 a12 a03 a13
    L.set("t2", vShuffle(L.get("a2"), L.get("a3"), [0, 4, 1, 5])), // a20 a30 a21 a31
    L.set("t3", vShuffle(L.get("a2"), L.get("a3"), [2, 6, 3, 7])), // a22 a32 a23 a33
    colStore(0, vShuffle(L.get("t0"), L.get("t2"), [0, 1, 4, 5])), // a00 a10 a20 a30
    colStore(1, vShuffle(L.get("t0"), L.get("t2"), [2, 3, 6, 7])),
    colStore(2, vShuffle(L.get("t1"), L.get("t3"), [0, 1, 4, 5])),
    colStore(3, vShuffle(L.get("t1"), L.get("t3"), [2, 3, 6, 7])),
  );
  const body = seq(
    L.set("rowB", iMul(L.get("c"), iConst(4))), // bytes per input row
    L.set("colB", iMul(L.get("r"), iConst(4))), // bytes per output row
    forUp(L, "i", iConst(0), L.get("r"), 4, forUp(L, "j", iConst(0), L.get("c"), 4, block)),
  );
  return { name: "transpose", locals: L, body };
}

let compiled: { memory: WebAssembly.Memory; transpose: Kernel } | undefined;

function kernel(): { memory: WebAssembly.Memory; transpose: Kernel } {
  if (!compiled) {
    const { memory, kernel: k } = instantiate([transposeKernel()]);
    compiled = { memory, transpose: k("transpose") };
  }
  return compiled;
}

/** [r, c] -> [c, r] through the kernel (r, c multiples of 4); a view of kernel memory, valid until the next call. */
export function transposeArray(src: Float32Array, r: number, c: number): Float32Array {
  if (r % 4 !== 0 || c % 4 !== 0 || src.length !== r * c) {
    throw new Error(`transposeArray: needs [r, c] with r, c multiples of 4 and ${r}x${c} values, got ${src.length}`);
  }
  const k = kernel();
  const at = reserve(k.memory, { src: r * c, dst: r * c });
  view(k.memory, at.src, r * c).set(src);
  k.transpose(at.src, at.dst, r, c);
  return view(k.memory, at.dst, r * c);
}

/**
 * x^T of a 2-D float32 tensor: the SIMD kernel when both dims are multiples of 4 on the wasm backend,
 * otherwise `tf.transpose` (the reference; tests compare both). Values are identical either way. Not
 * differentiable: for use inside gradient functions.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [r, c] = x.shape;
  if (r % 4 !== 0 || c % 4 !== 0 || x.dtype !== "float32" || tf.getBackend() !== "wasm") return tf.transpose(x);
  return tensorOf(transposeArray(floats(x, "transpose input"), r, c), [c, r]) as tf.Tensor2D;
}
