/**
 * Causal attention of a block of queries against every key before them, one head of one sequence at a time: what the
 * streaming forward (long_forward.ts) runs for a Transformer's first layer, where every position's output is needed.
 * The training kernels (attention_kernels.ts) attend a sequence to itself; here the keys of earlier chunks are kept
 * and a chunk's queries attend to them and to their own chunk's keys up to their own position.
 *
 * Keys are stored per head in quads, [L/4, k, 4] (four keys' feature j side by side, L the key capacity, a multiple
 * of 4), so four keys' scores come from k multiply-adds of whole vectors read in one contiguous run; values are
 * transposed, [k, L] (feature-major rows, each swept once per query). Per query, in four sweeps over its n = t + 1
 * keys (one [L] row of scratch, nothing of size l^2):
 *   scores[s] = scale sum_j q[j] keys[s / 4, j, s % 4]   (the padding lanes past n set to -3e38)
 *   m = max_s scores[s]
 *   p[s] = exp(scores[s] - m),  sum = sum_s p[s]      (vExp, as the Mamba kernels)
 *   out[j] = sum_s p[s] valuesT[j, s] / sum
 * A padding lane's exp(-3e38 - m) is exp(-87) ~ 1.6e-38 after vExp's clamp, not 0: below any float32 rounding of
 * the sums it joins.
 *
 * Glossary: c queries of the block, t a query's position, s a key position, k head dim, d model dim, L key capacity.
 */
import {
  F32,
  fConst,
  fDiv,
  fLoad,
  forUp,
  fStore,
  I32,
  iAdd,
  iAnd,
  iConst,
  iMul,
  instantiate,
  type Kernel,
  Locals,
  seq,
  V128,
  vAdd,
  vExp,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vPmax,
  vShuffle,
  vSplat,
  vStore,
  vSub,
  vSum,
  type WasmFunction,
} from "./assembler.ts";

const PARAMS = [
  "q", // query rows, row stride rowBytes, this head's k features at the start of each row
  "keysQ", // [L/4, k, 4]
  "valuesT", // [k, L], row stride valueBytes
  "out", // like q: this head's k outputs of each row
  "scores", // scratch [L]
  "scaleAt", // one float: 1 / sqrt(k)
  "count", // queries in the block
  "t0", // position of the block's first query
  "kd", // head dim k
  "rowBytes", // 4 d
  "valueBytes", // row stride of valuesT (at least 4 L)
] as const;

/** Padding score: exp of it (minus any max) is vExp's floor, ~1.6e-38. */
const MASKED = -3e38;

/** "attend_block": the block's queries of one head against keys 0 .. t (see the file comment). */
function attendBlockKernel(): WasmFunction {
  const L = new Locals(PARAMS);
  for (const name of ["i", "n", "end", "s", "j", "qRow", "outRow", "kRow"]) L.declare(name, I32);
  for (const name of ["scale", "sum"]) L.declare(name, F32);
  for (const name of ["acc", "mx", "sum4", "p"]) L.declare(name, V128);
  /** for (s = 0; s < end; s += 16) body: s is a byte offset into an [L] row, four keys a step. */
  const overQuads = (body: number[]): number[] => forUp(L, "s", iConst(0), L.get("end"), 16, body);
  const perQuery = seq(
    L.set("n", iAdd(iAdd(L.get("t0"), L.get("i")), iConst(1))), // keys 0 .. t
    L.set("end", iMul(iAnd(iAdd(L.get("n"), iConst(3)), iConst(-4)), iConst(4))), // bytes of n rounded up to quads
    L.set("qRow", iAdd(L.get("q"), iMul(L.get("i"), L.get("rowBytes")))),
    L.set("outRow", iAdd(L.get("out"), iMul(L.get("i"), L.get("rowBytes")))),
    // scores
    overQuads(seq(
      L.set("acc", L.splat(0)),
      L.set("kRow", iAdd(L.get("keysQ"), iMul(L.get("s"), L.get("kd")))), // quad s / 16, 16 k bytes each
      forUp(
        L,
        "j",
        iConst(0),
        L.get("kd"),
        1,
        seq(
          L.set(
            "acc",
            vMadd(vLoadSplat(iAdd(L.get("qRow"), iMul(L.get("j"), iConst(4)))), vLoad(L.get("kRow")), L.get("acc")),
          ),
          L.set("kRow", iAdd(L.get("kRow"), iConst(16))),
        ),
      ),
      vStore(iAdd(L.get("scores"), L.get("s")), vMul(L.get("acc"), vSplat(L.get("scale")))),
    )),
    forUp(
      L,
      "j",
      L.get("n"),
      iAnd(iAdd(L.get("n"), iConst(3)), iConst(-4)),
      1,
      fStore(
        iAdd(L.get("scores"), iMul(L.get("j"), iConst(4))),
        fConst(MASKED),
      ),
    ),
    // max, in every lane
    L.set("mx", L.splat(MASKED)),
    overQuads(L.set("mx", vPmax(L.get("mx"), vLoad(iAdd(L.get("scores"), L.get("s")))))),
    L.set("mx", vPmax(L.get("mx"), vShuffle(L.get("mx"), L.get("mx"), [1, 0, 3, 2]))),
    L.set("mx", vPmax(L.get("mx"), vShuffle(L.get("mx"), L.get("mx"), [2, 3, 0, 1]))),
    // p = exp(score - max), in place, and their sum
    L.set("sum4", L.splat(0)),
    overQuads(seq(
      L.set("p", vExp(L, vSub(vLoad(iAdd(L.get("scores"), L.get("s"))), L.get("mx")), true)),
      vStore(iAdd(L.get("scores"), L.get("s")), L.get("p")),
      L.set("sum4", vAdd(L.get("sum4"), L.get("p"))),
    )),
    L.set("sum", vSum(L, "sum4")),
    // out[j] = sum_s p[s] valuesT[j, s] / sum
    forUp(
      L,
      "j",
      iConst(0),
      L.get("kd"),
      1,
      seq(
        L.set("acc", L.splat(0)),
        L.set("kRow", iAdd(L.get("valuesT"), iMul(L.get("j"), L.get("valueBytes")))),
        overQuads(
          L.set(
            "acc",
            vMadd(vLoad(iAdd(L.get("scores"), L.get("s"))), vLoad(iAdd(L.get("kRow"), L.get("s"))), L.get("acc")),
          ),
        ),
        fStore(iAdd(L.get("outRow"), iMul(L.get("j"), iConst(4))), fDiv(vSum(L, "acc"), L.get("sum"))),
      ),
    ),
  );
  const body = seq(
    L.set("scale", fLoad(L.get("scaleAt"))),
    forUp(L, "i", iConst(0), L.get("count"), 1, perQuery),
  );
  return { name: "attend_block", locals: L, body };
}

export interface AttentionStreamKernels {
  readonly memory: WebAssembly.Memory;
  /** Params as PARAMS (byte offsets into `memory`, counts, strides). */
  readonly attendBlock: Kernel;
}

let compiled: AttentionStreamKernels | undefined;

/** The kernel (one module for every head dim), compiled on first use. */
export function attentionStreamKernels(): AttentionStreamKernels {
  if (compiled) return compiled;
  const { memory, kernel } = instantiate([attendBlockKernel()]);
  compiled = { memory, attendBlock: kernel("attend_block") };
  return compiled;
}
