/**
 * WebAssembly SIMD kernels for one causal self-attention layer with optional RoPE (see attention.ts): the
 * projections and their weight gradients, RoPE, and the causal softmax attention forward and backward per
 * (batch row, head) block. Emitted by lib/kernels/assembler.ts at first use, specialised to the model dim d and
 * the head count h (loops over features and heads' offsets become constants), and run on typed-array views
 * of the module's own memory.
 *
 * Math (x @ W convention, scale = 1 / sqrt(k)), per block (queries t, keys s <= t):
 *   [q | kk | v] = x [Wq | Wk | Wv];  with RoPE, q and kk rotated (rope.ts);  out = o Wo
 *   score[t, s] = scale q[t] . kk[s];  m[t] = max_s score;  e = exp(score - m);  inv[t] = 1 / sum_s e
 *   p = e inv;  o[t] = sum_s p[t, s] v[s]
 * backward, from dO = dOut Wo^T: rowDot[t] = dO[t] . o[t];  dS[t, s] = p[t, s] (dO[t] . v[s] - rowDot[t])
 *   dV[s] = sum_t p dO[t];  dK[s] = scale sum_t dS q[t];  dQ[t] = scale sum_s dS kk[s]
 *   dWo = o^T dOut;  d[Wq | Wk | Wv] = x^T [dQ | dK | dV];  dx = [dQ | dK | dV] [Wq | Wk | Wv]^T
 *
 * Which axis gets the four SIMD lanes: the head dim is tiny (k = 2 at d = 8, h = 4) and does not fill four
 * lanes, so lanes run over positions: four consecutive positions form a "quad", and every array is kept in
 * the quad layout [b, l4 / 4, width, 4]: feature c of position t of batch row bi is the float
 * ((bi q4 + t / 4) width + c) 4 + t % 4, with l4 = l rounded up to a multiple of 4 and q4 = l4 / 4. One quad
 * of one feature is one vector; the features of a quad are adjacent vectors, so a head is a run of k of them
 * at a constant offset, and the projections write q, kk, v (and read o) in the layout attention wants.
 * Each attention kernel puts the lanes on the axis whose sums stay in registers:
 * - forward: lanes over queries t. Row max, row sum and o[t] accumulate over keys s lane by lane, with no
 *   cross-lane work at all; kk[s] and v[s] enter as splats (v128.load32_splat). Two passes per query quad:
 *   scores and their max into a scratch row, then exp, sum and the weighted sum of v.
 * - backward: lanes over keys s. dK[s] and dV[s] accumulate over queries t in registers; dQ[t] (a sum over
 *   s, across lanes) goes through a scratch of four-lane partial sums, added across lanes once per block
 *   (`vSum4`). The softmax weights come from the forward: under a tape it runs as `forward_keep`, which also
 *   writes every visible pair's exp(score - max) (lanes over queries, one vector per query quad and key, rows
 *   of 4 (tq + 1) keys; see `weightsBlock`), and the backward loads four such vectors per (query quad, key
 *   quad), transposes them to lanes over keys and multiplies by the saved 1 / row sum. (Recomputing scores
 *   and exponentials there instead cost ~0.8 ms of a ~3.5 ms step at 4 heads of size 2, where an exp per
 *   pair and head dominates; the table is b h l4 (l4 + 4) / 2 floats, ~2.2 MB per layer at b = l = 64, h = 4.)
 * The causal mask only touches the diagonal quad (s and t in the same quad): earlier key quads are fully
 * visible, later ones are never visited. Diagonal lanes are masked with lane constants: masked scores never
 * reach the max, and masked weights are exactly zero, so a future position cannot change any output bit.
 * exp is the assembler's `vExp` (within ~3e-7 relative of exp for the arguments here, x <= 0).
 * Projections vectorise over positions too (out[c] = sum_i in[i] M[c, i], a splat of M per term); weight
 * gradients sum lane-wise products over all quads and add across lanes once at the end.
 * Padding positions (l <= t < l4) hold zeros in x and dOut: their projections are zero, they attend like any
 * query (finite values) and are dropped on unpacking, and they add nothing to any gradient.
 *
 * Other layouts: per-position statistics (row max, then 1 / row sum) are [b, h, l4]; RoPE tables [q4, k / 2, 4]
 * (cos or sin of pair i at the four positions of a quad); matrices row-major.
 *
 * Glossary: b batch, l length, d model dim (h k), h heads, k head dim, t query position, s key position,
 * j feature in a head, i RoPE pair (< k / 2) or input feature, l4 padded length, q4 = l4 / 4 quads per row,
 * tq / sq query / key quad, rt / r lane of a query / key in its quad, block = one (batch row, head) pair.
 * Kernel pointers are byte offsets into the module memory.
 */
import {
  type Code,
  fConst,
  fLoad,
  forUp,
  fStore,
  I32,
  iAdd,
  iAnd,
  iConst,
  iMul,
  instantiate,
  iShrU,
  iSub,
  type Kernel,
  Locals,
  seq,
  unroll,
  V128,
  vAccumulate,
  vAdd,
  vAnd,
  vDiv,
  vExp,
  vLoad,
  vLoadSplat,
  vMadd,
  vMul,
  vPmax,
  vSelect,
  vShuffle,
  vStore,
  vSub,
  vSum,
  vSum4,
  type WasmFunction,
} from "./assembler.ts";

/** A masked score: far below any real one, and exp of it minus a real max still finite (then zeroed). */
const MASKED = -1e30;

/** Lane mask (all-ones i32 lanes where `keep(lane)`). */
function laneMask(L: Locals, keep: (lane: number) => boolean): number[] {
  return L.lanes([0, 1, 2, 3].map((lane) => (keep(lane) ? -1 : 0)), "i32");
}

/** name = name + step (i32 locals; step a constant or code). */
function advance(L: Locals, name: string, step: number | Code): number[] {
  return L.set(name, iAdd(L.get(name), typeof step === "number" ? iConst(step) : step));
}

// ---------------------------------------------------------------------------------------------------------
// Layout changes: row-major [b l, d] <-> quad layout [b, q4, d, 4].

/**
 * Locals of `pack` / `unpack` and the loop `body` runs in for every (bi, t) with from <= t < to: "rowAt" is
 * the byte address of rows[bi l + t, 0] and "quadAt" the address of feature 0 of position t (feature c at
 * + 16 c). Params: rows, quad, batch, len, quads.
 */
function layoutLoops(L: Locals, d: number, from: Code, to: Code, body: Code): number[] {
  const perT = seq(
    L.set("rowAt", iAdd(L.get("rows"), iMul(iAdd(iMul(L.get("bi"), L.get("len")), L.get("t")), iConst(4 * d)))),
    L.set(
      "quadAt",
      iAdd(
        iAdd(
          L.get("quad"),
          iMul(iAdd(iMul(L.get("bi"), L.get("quads")), iShrU(L.get("t"), iConst(2))), iConst(16 * d)),
        ),
        iMul(iAnd(L.get("t"), iConst(3)), iConst(4)),
      ),
    ),
    body,
  );
  return forUp(L, "bi", iConst(0), L.get("batch"), 1, forUp(L, "t", from, to, 1, perT));
}

function layoutLocals(): Locals {
  const L = new Locals(["rows", "quad", "batch", "len", "quads"]);
  for (const name of ["bi", "t", "rowAt", "quadAt"]) L.declare(name, I32);
  return L;
}

/** Row-major [b l, d] -> quad layout [b, q4, d, 4], zeros at padding positions. Params: rows, quad, batch, len, quads. */
function packKernel(d: number): WasmFunction {
  const L = layoutLocals();
  const copy = unroll(d, (c) => fStore(L.get("quadAt"), fLoad(L.get("rowAt"), 4 * c), 16 * c));
  const zero = unroll(d, (c) => fStore(L.get("quadAt"), fConst(0), 16 * c));
  const body = seq(
    layoutLoops(L, d, iConst(0), L.get("len"), copy),
    layoutLoops(L, d, L.get("len"), iMul(L.get("quads"), iConst(4)), zero),
  );
  return { name: "pack", locals: L, body };
}

/** Quad layout [b, q4, d, 4] -> row-major [b l, d] (padding dropped). Params as `pack`. */
function unpackKernel(d: number): WasmFunction {
  const L = layoutLocals();
  const copy = unroll(d, (c) => fStore(L.get("rowAt"), fLoad(L.get("quadAt"), 16 * c), 4 * c));
  return { name: "unpack", locals: L, body: layoutLoops(L, d, iConst(0), L.get("len"), copy) };
}

// ---------------------------------------------------------------------------------------------------------
// Projections and weight gradients, over all quads at once.

/**
 * out[quad, c] = sum_i in[quad, i] m[c, i] for c < p, i < n: input quads [count, n, 4], output [count, p, 4],
 * m row-major [p, n]. Four outputs at a time (independent multiply-add chains), their m rows as splats.
 * Params: input, m, output, count.
 */
function projectKernel(name: string, n: number, p: number): WasmFunction {
  const L = new Locals(["input", "m", "output", "count"]);
  for (const local of ["qi", "cb", "inAt", "outAt", "mAt"]) L.declare(local, I32);
  for (let j = 0; j < 4; j++) L.declare(`acc${j}`, V128);
  const outputs = (width: number): number[] =>
    seq(
      unroll(n, (i) =>
        unroll(width, (j) => {
          const term = (acc: Code): number[] =>
            vMadd(vLoad(L.get("inAt"), 16 * i), vLoadSplat(L.get("mAt"), 4 * (j * n + i)), acc);
          return L.set(
            `acc${j}`,
            i === 0 ? vMul(vLoad(L.get("inAt")), vLoadSplat(L.get("mAt"), 4 * j * n)) : term(L.get(`acc${j}`)),
          );
        })),
      unroll(width, (j) => vStore(L.get("outAt"), L.get(`acc${j}`), 16 * j)),
    );
  const perQuad = seq(
    L.set("mAt", L.get("m")),
    forUp(
      L,
      "cb",
      iConst(0),
      iConst(Math.floor(p / 4)),
      1,
      seq(outputs(4), advance(L, "mAt", 16 * n), advance(L, "outAt", 64)),
    ),
    p % 4 > 0 ? seq(outputs(p % 4), advance(L, "outAt", 16 * (p % 4))) : [],
    advance(L, "inAt", 16 * n),
  );
  const body = seq(
    L.set("inAt", L.get("input")),
    L.set("outAt", L.get("output")),
    forUp(L, "qi", iConst(0), L.get("count"), 1, perQuad),
  );
  return { name, locals: L, body };
}

/**
 * out[i, c] = sum over quads and lanes of a[quad, i] g[quad, c] (i < n, c < p), written row-major [n, p]: the
 * weight gradient a^T g. Four-lane partial sums of four c at a time in registers over all quads, then
 * added across lanes. Params: a [count, n, 4], g [count, p, 4], out, count.
 */
function weightGradientKernel(name: string, n: number, p: number): WasmFunction {
  const L = new Locals(["a", "g", "out", "count"]);
  for (const local of ["i", "cb", "qi", "aAt", "gAt", "outAt"]) L.declare(local, I32);
  for (let j = 0; j < 4; j++) L.declare(`acc${j}`, V128);
  // Columns c0 = 4 cb .. c0 + width - 1 of row i, with gAt at g + 16 c0 and outAt at out + 4 (i p + c0).
  const columns = (width: number): number[] =>
    seq(
      unroll(width, (j) => L.set(`acc${j}`, L.splat(0))),
      L.set("aAt", iAdd(L.get("a"), iMul(L.get("i"), iConst(16)))),
      forUp(
        L,
        "qi",
        iConst(0),
        L.get("count"),
        1,
        seq(
          unroll(width, (j) =>
            L.set(`acc${j}`, vMadd(vLoad(L.get("aAt")), vLoad(L.get("gAt"), 16 * j), L.get(`acc${j}`)))),
          advance(L, "aAt", 16 * n),
          advance(L, "gAt", 16 * p),
        ),
      ),
      width === 4
        ? vStore(L.get("outAt"), vSum4(L, L.get("acc0"), L.get("acc1"), L.get("acc2"), L.get("acc3")))
        : unroll(width, (j) =>
          fStore(L.get("outAt"), vSum(L, `acc${j}`), 4 * j)),
    );
  const perRow = seq(
    L.set("outAt", iAdd(L.get("out"), iMul(L.get("i"), iConst(4 * p)))),
    forUp(
      L,
      "cb",
      iConst(0),
      iConst(Math.floor(p / 4)),
      1,
      seq(
        L.set("gAt", iAdd(L.get("g"), iMul(L.get("cb"), iConst(64)))),
        columns(4),
        advance(L, "outAt", 16),
      ),
    ),
    p % 4 > 0 ? seq(L.set("gAt", iAdd(L.get("g"), iConst(16 * (p - (p % 4))))), columns(p % 4)) : [],
  );
  return { name, locals: L, body: forUp(L, "i", iConst(0), iConst(n), 1, perRow) };
}

// ---------------------------------------------------------------------------------------------------------
// RoPE, on the q and kk features of a [b, q4, 3d, 4] array.

/**
 * Rotate q and kk (features [0, 2d) of every quad) in place by the tables cos, sin [q4, k / 2, 4]: in each
 * head, pair i = features (2i, 2i + 1): (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos); `inverse` rotates by
 * -angle (the transpose, for gradients). Params: data, cos, sin, batch, quads.
 */
function ropeKernel(d: number, h: number, inverse: boolean): WasmFunction {
  const k = d / h;
  const L = new Locals(["data", "cos", "sin", "batch", "quads"]);
  for (const name of ["bi", "tq", "dataAt", "cosAt", "sinAt"]) L.declare(name, I32);
  for (const name of ["x0", "x1", "c", "s"]) L.declare(name, V128);
  const x0 = L.get("x0");
  const x1 = L.get("x1");
  const c = L.get("c");
  const s = L.get("s");
  const rotate = (offset: number): number[] =>
    seq(
      L.set("x0", vLoad(L.get("dataAt"), offset)),
      L.set("x1", vLoad(L.get("dataAt"), offset + 16)),
      vStore(L.get("dataAt"), inverse ? vMadd(x1, s, vMul(x0, c)) : vSub(vMul(x0, c), vMul(x1, s)), offset),
      vStore(L.get("dataAt"), inverse ? vSub(vMul(x1, c), vMul(x0, s)) : vMadd(x0, s, vMul(x1, c)), offset + 16),
    );
  const perPair = (i: number): number[] =>
    seq(
      L.set("c", vLoad(L.get("cosAt"), 16 * i)),
      L.set("s", vLoad(L.get("sinAt"), 16 * i)),
      unroll(h, (hh) => seq(rotate(16 * (hh * k + 2 * i)), rotate(16 * (d + hh * k + 2 * i)))),
    );
  const perQuad = seq(
    unroll(k / 2, perPair),
    advance(L, "dataAt", 48 * d),
    advance(L, "cosAt", 8 * k),
    advance(L, "sinAt", 8 * k),
  );
  const body = seq(
    L.set("dataAt", L.get("data")),
    forUp(
      L,
      "bi",
      iConst(0),
      L.get("batch"),
      1,
      seq(
        L.set("cosAt", L.get("cos")),
        L.set("sinAt", L.get("sin")),
        forUp(L, "tq", iConst(0), L.get("quads"), 1, perQuad),
      ),
    ),
  );
  return { name: inverse ? "rope_inverse" : "rope", locals: L, body };
}

// ---------------------------------------------------------------------------------------------------------
// Attention. q, kk, v of head hh are features hh k + j, d + hh k + j, 2d + hh k + j of the [b, q4, 3d, 4]
// projection; its output o is features hh k + j of [b, q4, d, 4].

/** scale * sum_j a(j) b(j), accumulated in j order (both attention kernels must produce the same bits). */
function scaledDot(L: Locals, k: number, a: (j: number) => Code, b: (j: number) => Code): number[] {
  let acc = vMul(a(0), b(0));
  for (let j = 1; j < k; j++) acc = vMadd(a(j), b(j), acc);
  return vMul(acc, L.splat(1 / Math.sqrt(k)));
}

/** Locals of an attention kernel with the given params, including those `forEachBlock` sets. */
function blockLocals(params: readonly string[]): Locals {
  const L = new Locals(params);
  for (const name of ["bi", "hh", "qkvBlock", "dBlock", "oBlock", "gBlock", "statBlock"]) L.declare(name, I32);
  return L;
}

/**
 * `perBlock` for every (bi, hh) (locals from `blockLocals`), with "qkvBlock" = address of quad 0 of the block's q features in qkv,
 * "dBlock" = the same in a second [b, q4, 3d, 4] array (if given), "oBlock" / "gBlock" = quad 0 of its
 * features in o / a second [b, q4, d, 4] array, "statBlock" = its row max at quad 0 ([b, h, l4] statistics).
 */
function forEachBlock(L: Locals, d: number, h: number, perBlock: Code, second?: [string, string]): number[] {
  const k = d / h;
  const rowQuads = iMul(L.get("bi"), L.get("quads"));
  const headOff = iMul(L.get("hh"), iConst(16 * k));
  const set = (name: string, base: string, width: number): number[] =>
    L.set(name, iAdd(iAdd(L.get(base), iMul(rowQuads, iConst(16 * width))), headOff));
  return forUp(
    L,
    "bi",
    iConst(0),
    L.get("batch"),
    1,
    forUp(
      L,
      "hh",
      iConst(0),
      iConst(h),
      1,
      seq(
        set("qkvBlock", "qkv", 3 * d),
        set("oBlock", "o", d),
        second ? seq(set("dBlock", second[0], 3 * d), set("gBlock", second[1], d)) : [],
        L.set(
          "statBlock",
          iAdd(L.get("stats"), iMul(iAdd(iMul(L.get("bi"), iConst(h)), L.get("hh")), iMul(L.get("quads"), iConst(16)))),
        ),
        perBlock,
      ),
    ),
  );
}

/** Byte offset of the 1 / row sum section of the statistics, [b, h, l4] after the row max. */
function inverseSection(L: Locals, h: number): number[] {
  return iMul(iMul(L.get("batch"), L.get("quads")), iConst(16 * h));
}

/**
 * Forward, lanes over queries: o [b, q4, d, 4] and the statistics [row max | 1 / row sum], each [b, h, l4],
 * from the (rotated) projection qkv [b, q4, 3d, 4]. scores: scratch of l4 vectors.
 * Params: qkv, o, stats, scores, batch, quads.
 */
function forwardKernel(d: number, h: number, keep = false): WasmFunction {
  const k = d / h;
  const quadBytes = 48 * d; // one quad of qkv
  const L = blockLocals(["qkv", "o", "stats", "scores", "batch", "quads", ...(keep ? ["weights"] : [])]);
  for (const name of ["tq", "sq", "qAt", "oAt", "statAt", "invOff", "kAt", "vAt", "sAt", "eOff"]) L.declare(name, I32);
  for (const name of ["m", "sum", "sc", "e", "inv"]) L.declare(name, V128);
  for (let j = 0; j < k; j++) {
    L.declare(`q${j}`, V128);
    L.declare(`o${j}`, V128);
  }
  // Key lane r of a key quad is visible to query lanes >= r in the diagonal quad.
  const visible = (r: number): number[] => laneMask(L, (lane) => lane >= r);

  // Pass 1: score of key r of the key quad at kAt, into the scratch row at sAt, and the running max.
  const scoreStep = (r: number, diagonal: boolean): number[] =>
    seq(
      L.set("sc", scaledDot(L, k, (j) => L.get(`q${j}`), (j) => vLoadSplat(L.get("kAt"), 16 * (d + j) + 4 * r))),
      diagonal && r > 0 ? L.set("sc", vSelect(L.get("sc"), L.splat(MASKED), visible(r))) : [],
      vStore(L.get("sAt"), L.get("sc"), 16 * r),
      L.set("m", vPmax(L.get("m"), L.get("sc"))),
    );
  // Pass 2: weight of key r, the row sum and the weighted values (v of the key quad at vAt).
  const weightStep = (r: number, diagonal: boolean): number[] =>
    seq(
      L.set("e", vExp(L, vSub(vLoad(L.get("sAt"), 16 * r), L.get("m")), true)),
      diagonal && r > 0 ? L.set("e", vAnd(L.get("e"), visible(r))) : [],
      keep ? vStore(iAdd(L.get("sAt"), L.get("eOff")), L.get("e"), 16 * r) : [],
      L.set("sum", vAdd(L.get("sum"), L.get("e"))),
      unroll(k, (j) =>
        L.set(`o${j}`, vMadd(L.get("e"), vLoadSplat(L.get("vAt"), 16 * (2 * d + j) + 4 * r), L.get(`o${j}`)))),
    );
  // Key quads sq < tq, then the diagonal sq = tq; `pointer` walks the key quads.
  const keyQuads = (step: (r: number, diagonal: boolean) => Code, pointer: string): number[] =>
    seq(
      L.set(pointer, L.get("qkvBlock")),
      L.set("sAt", L.get("scores")),
      forUp(
        L,
        "sq",
        iConst(0),
        L.get("tq"),
        1,
        seq(unroll(4, (r) => step(r, false)), advance(L, pointer, quadBytes), advance(L, "sAt", 64)),
      ),
      unroll(4, (r) => step(r, true)),
    );

  const perQueryQuad = seq(
    unroll(k, (j) => L.set(`q${j}`, vLoad(L.get("qAt"), 16 * j))),
    L.set("m", L.splat(MASKED)),
    keyQuads(scoreStep, "kAt"),
    L.set("sum", L.splat(0)),
    unroll(k, (j) => L.set(`o${j}`, L.splat(0))),
    keyQuads(weightStep, "vAt"),
    L.set("inv", vDiv(L.splat(1), L.get("sum"))),
    unroll(k, (j) => vStore(L.get("oAt"), vMul(L.get(`o${j}`), L.get("inv")), 16 * j)),
    vStore(L.get("statAt"), L.get("m")),
    vStore(iAdd(L.get("statAt"), L.get("invOff")), L.get("inv")),
    advance(L, "qAt", quadBytes),
    advance(L, "oAt", 16 * d),
    advance(L, "statAt", 16),
    // the next row of weights starts 4 (tq + 1) vectors later
    keep ? advance(L, "eOff", iMul(iAdd(L.get("tq"), iConst(1)), iConst(64))) : [],
  );
  const perBlock = seq(
    L.set("qAt", L.get("qkvBlock")),
    L.set("oAt", L.get("oBlock")),
    L.set("statAt", L.get("statBlock")),
    // weights row tq of this block at weights + block * 32 q4 (q4 + 1) + 32 tq (tq + 1), addressed as sAt + eOff
    keep ? L.set("eOff", iSub(weightsBlock(L, h), L.get("scores"))) : [],
    forUp(L, "tq", iConst(0), L.get("quads"), 1, perQueryQuad),
  );
  const body = seq(L.set("invOff", inverseSection(L, h)), forEachBlock(L, d, h, perBlock));
  return { name: keep ? "forward_keep" : "forward", locals: L, body };
}

/**
 * Byte address of block (bi, hh)'s softmax weights in the array at param "weights": per block, row tq (query
 * quad) holds the 4 (tq + 1) visible keys' unnormalised weights exp(score - max) as vectors over the quad's four
 * queries (masked lanes zero), rows one after another: 2 q4 (q4 + 1) vectors per block, blocks in (bi, hh) order.
 */
function weightsBlock(L: Locals, h: number): number[] {
  return iAdd(
    L.get("weights"),
    iMul(
      iAdd(iMul(L.get("bi"), iConst(h)), L.get("hh")),
      iMul(iMul(L.get("quads"), iAdd(L.get("quads"), iConst(1))), iConst(32)),
    ),
  );
}

/** Floats of the softmax-weights array `forward_keep` writes for b batch rows, h heads and q4 quads. */
export function attentionWeightFloats(b: number, h: number, quads: number): number {
  return b * h * 2 * quads * (quads + 1) * 4;
}

/**
 * Backward, lanes over keys: dQKV [b, q4, 3d, 4] (written: dQ | dK | dV, before un-rotating) from dO
 * [b, q4, d, 4] and the forward's qkv, o, statistics and softmax weights (`forward_keep`'s, laid out as in
 * `weightsBlock`). Scratch for one block: rowDot [l4], acc [l4, k, 4] (dQ's four-lane partial sums).
 * Params: qkv, o, dO, stats, dQKV, rowDot, acc, batch, quads, weights.
 */
function backwardKernel(d: number, h: number): WasmFunction {
  const k = d / h;
  const quadBytes = 48 * d; // one quad of qkv and dQKV
  const L = blockLocals([
    "qkv",
    "o",
    "dO",
    "stats",
    "dQKV",
    "rowDot",
    "acc",
    "batch",
    "quads",
    "weights",
  ]);
  for (const name of ["tq", "sq", "i", "invOff", "kAt", "tAt", "gAt", "tStat", "rdAt", "aAt", "eAt", "eStep"]) {
    L.declare(name, I32);
  }
  for (const name of ["p", "dP", "dS", "rd"]) L.declare(name, V128);
  for (const name of ["w0", "w1", "w2", "w3", "wt0", "wt1", "wt2", "wt3"]) L.declare(name, V128);
  for (let j = 0; j < k; j++) {
    for (const name of ["kv", "vv", "dk", "dv", "qs", "gs"]) L.declare(`${name}${j}`, V128);
  }
  const scale = L.splat(1 / Math.sqrt(k));
  // Query lane rt of the diagonal quad sees key lanes <= rt.
  const visible = (rt: number): number[] => laneMask(L, (lane) => lane <= rt);

  // Query t = 4 tq + rt (q at tAt, dO at gAt) against the four keys of quad sq (kv, vv in registers).
  const queryStep = (rt: number, diagonal: boolean): number[] => {
    const masked = diagonal && rt < 3;
    return seq(
      unroll(k, (j) =>
        seq(
          L.set(`qs${j}`, vLoadSplat(L.get("tAt"), 16 * j + 4 * rt)),
          L.set(`gs${j}`, vLoadSplat(L.get("gAt"), 16 * j + 4 * rt)),
        )),
      // p = the forward's exp(score - max) times 1 / row sum (masked lanes are zero already; zeroed again)
      L.set("p", vMul(L.get(`w${rt}`), vLoadSplat(iAdd(L.get("tStat"), L.get("invOff")), 4 * rt))),
      masked ? L.set("p", vAnd(L.get("p"), visible(rt))) : [],
      L.set("dP", vMul(L.get("gs0"), L.get("vv0"))),
      unroll(k - 1, (j) => L.set("dP", vMadd(L.get(`gs${j + 1}`), L.get(`vv${j + 1}`), L.get("dP")))),
      L.set("dS", vMul(L.get("p"), vSub(L.get("dP"), vLoadSplat(L.get("rdAt"), 4 * rt)))),
      unroll(k, (j) =>
        seq(
          L.set(`dv${j}`, vMadd(L.get("p"), L.get(`gs${j}`), L.get(`dv${j}`))),
          L.set(`dk${j}`, vMadd(L.get("dS"), L.get(`qs${j}`), L.get(`dk${j}`))),
          vAccumulate(L.get("aAt"), L.get("dS"), L.get(`kv${j}`), 16 * (rt * k + j)),
        )),
    );
  };
  const nextQueryQuad = seq(
    advance(L, "tAt", quadBytes),
    advance(L, "gAt", 16 * d),
    advance(L, "tStat", 16),
    advance(L, "rdAt", 16),
    advance(L, "aAt", 64 * k),
    advance(L, "eAt", L.get("eStep")),
    advance(L, "eStep", 64),
  );
  // The forward's weights of query quad tq against key quad sq (four vectors over queries, one per key lane),
  // transposed into w0..w3: w{rt} = the four keys' weights for query lane rt, as the key-lane steps want them.
  const loadWeights = seq(
    L.set("wt0", vShuffle(vLoad(L.get("eAt")), vLoad(L.get("eAt"), 16), [0, 4, 1, 5])),
    L.set("wt1", vShuffle(vLoad(L.get("eAt"), 32), vLoad(L.get("eAt"), 48), [0, 4, 1, 5])),
    L.set("wt2", vShuffle(vLoad(L.get("eAt")), vLoad(L.get("eAt"), 16), [2, 6, 3, 7])),
    L.set("wt3", vShuffle(vLoad(L.get("eAt"), 32), vLoad(L.get("eAt"), 48), [2, 6, 3, 7])),
    L.set("w0", vShuffle(L.get("wt0"), L.get("wt1"), [0, 1, 4, 5])),
    L.set("w1", vShuffle(L.get("wt0"), L.get("wt1"), [2, 3, 6, 7])),
    L.set("w2", vShuffle(L.get("wt2"), L.get("wt3"), [0, 1, 4, 5])),
    L.set("w3", vShuffle(L.get("wt2"), L.get("wt3"), [2, 3, 6, 7])),
  );
  const perKeyQuad = seq(
    L.set("kAt", iAdd(L.get("qkvBlock"), iMul(L.get("sq"), iConst(quadBytes)))),
    unroll(k, (j) =>
      seq(
        L.set(`kv${j}`, vLoad(L.get("kAt"), 16 * (d + j))),
        L.set(`vv${j}`, vLoad(L.get("kAt"), 16 * (2 * d + j))),
        L.set(`dk${j}`, L.splat(0)),
        L.set(`dv${j}`, L.splat(0)),
      )),
    // query quads tq = sq (the diagonal), then sq + 1 .. quads - 1
    L.set("tAt", L.get("kAt")),
    L.set("gAt", iAdd(L.get("gBlock"), iMul(L.get("sq"), iConst(16 * d)))),
    L.set("tStat", iAdd(L.get("statBlock"), iMul(L.get("sq"), iConst(16)))),
    L.set("rdAt", iAdd(L.get("rowDot"), iMul(L.get("sq"), iConst(16)))),
    L.set("aAt", iAdd(L.get("acc"), iMul(L.get("sq"), iConst(64 * k)))),
    // weights row tq = sq, key quad sq: 32 sq (sq + 1) + 64 sq bytes into the block; rows grow by 64 (tq + 1)
    L.set(
      "eAt",
      iAdd(
        weightsBlock(L, h),
        iAdd(iMul(iMul(L.get("sq"), iAdd(L.get("sq"), iConst(1))), iConst(32)), iMul(L.get("sq"), iConst(64))),
      ),
    ),
    L.set("eStep", iMul(iAdd(L.get("sq"), iConst(1)), iConst(64))),
    loadWeights,
    unroll(4, (rt) => queryStep(rt, true)),
    nextQueryQuad,
    forUp(
      L,
      "tq",
      iAdd(L.get("sq"), iConst(1)),
      L.get("quads"),
      1,
      seq(loadWeights, unroll(4, (rt) => queryStep(rt, false)), nextQueryQuad),
    ),
    L.set("kAt", iAdd(L.get("dBlock"), iMul(L.get("sq"), iConst(quadBytes)))),
    unroll(k, (j) =>
      seq(
        vStore(L.get("kAt"), vMul(L.get(`dk${j}`), scale), 16 * (d + j)),
        vStore(L.get("kAt"), L.get(`dv${j}`), 16 * (2 * d + j)),
      )),
  );

  const perBlock = seq(
    // rowDot[t] = dO[t] . o[t], lanes over queries
    L.set("gAt", L.get("gBlock")),
    L.set("tAt", L.get("oBlock")),
    L.set("rdAt", L.get("rowDot")),
    forUp(
      L,
      "tq",
      iConst(0),
      L.get("quads"),
      1,
      seq(
        L.set("rd", vMul(vLoad(L.get("gAt")), vLoad(L.get("tAt")))),
        unroll(
          k - 1,
          (j) => L.set("rd", vMadd(vLoad(L.get("gAt"), 16 * (j + 1)), vLoad(L.get("tAt"), 16 * (j + 1)), L.get("rd"))),
        ),
        vStore(L.get("rdAt"), L.get("rd")),
        advance(L, "gAt", 16 * d),
        advance(L, "tAt", 16 * d),
        advance(L, "rdAt", 16),
      ),
    ),
    forUp(
      L,
      "i",
      iConst(0),
      iMul(L.get("quads"), iConst(64 * k)),
      16,
      vStore(iAdd(L.get("acc"), L.get("i")), L.splat(0)),
    ),
    forUp(L, "sq", iConst(0), L.get("quads"), 1, perKeyQuad),
    // dQ[t, j] = scale * (sum of the four lanes of acc[t, j])
    L.set("tAt", L.get("dBlock")),
    L.set("aAt", L.get("acc")),
    forUp(
      L,
      "tq",
      iConst(0),
      L.get("quads"),
      1,
      seq(
        unroll(k, (j) =>
          vStore(
            L.get("tAt"),
            vMul(vSum4(L, ...unroll4((rt) => vLoad(L.get("aAt"), 16 * (rt * k + j)))), scale),
            16 * j,
          )),
        advance(L, "tAt", quadBytes),
        advance(L, "aAt", 64 * k),
      ),
    ),
  );
  const body = seq(L.set("invOff", inverseSection(L, h)), forEachBlock(L, d, h, perBlock, ["dQKV", "dO"]));
  return { name: "backward", locals: L, body };
}

/** [f(0), f(1), f(2), f(3)]. */
function unroll4(f: (lane: number) => Code): [Code, Code, Code, Code] {
  return [f(0), f(1), f(2), f(3)];
}

// ---------------------------------------------------------------------------------------------------------
// The compiled module.

/** The kernels for one (d, h), sharing one memory. Arguments are byte offsets and counts, as listed. */
export interface AttentionKernels {
  readonly d: number;
  readonly h: number;
  readonly memory: WebAssembly.Memory;
  /** (rows, quad, batch, len, quads): row-major [b l, d] -> quad layout [b, q4, d, 4], zero padded. */
  readonly pack: Kernel;
  /** (rows, quad, batch, len, quads): quad layout [b, q4, d, 4] -> row-major [b l, d]. */
  readonly unpack: Kernel;
  /** (input [., d, 4], m [3d, d], output [., 3d, 4], quadCount): output = input m^T. */
  readonly projectQkv: Kernel;
  /** (input [., 3d, 4], m [d, 3d], output [., d, 4], quadCount): output = input m^T. */
  readonly projectQkvBack: Kernel;
  /** (input [., d, 4], m [d, d], output [., d, 4], quadCount): output = input m^T. */
  readonly projectOut: Kernel;
  /** (a [., d, 4], g [., 3d, 4], out [d, 3d], quadCount): out = a^T g. */
  readonly weightGradientQkv: Kernel;
  /** (a [., d, 4], g [., d, 4], out [d, d], quadCount): out = a^T g. */
  readonly weightGradientOut: Kernel;
  /** (data [b, q4, 3d, 4], cos, sin, batch, quads): RoPE on q and kk in place (k even only). */
  readonly rope: Kernel;
  /** (data, cos, sin, batch, quads): inverse RoPE on dQ and dK in place (k even only). */
  readonly ropeInverse: Kernel;
  /** (qkv, o, stats, scores, batch, quads). */
  readonly forward: Kernel;
  /** forward that also writes the softmax weights (its last parameter; `attentionWeightFloats` floats). */
  readonly forwardKeep: Kernel;
  /** (qkv, o, dO, stats, dQKV, rowDot, acc, batch, quads, weights): weights as forwardKeep wrote them. */
  readonly backward: Kernel;
}

const compiled = new Map<string, AttentionKernels>();

/** The kernels for model dim d and h heads (h divides d; RoPE needs an even d / h), compiled on first use. */
export function attentionKernels(d: number, h: number): AttentionKernels {
  if (!Number.isInteger(d) || !Number.isInteger(h) || d <= 0 || h <= 0 || d % h !== 0) {
    throw new Error(`attention kernels need heads h dividing d, got d=${d}, h=${h}`);
  }
  const key = `${d},${h}`;
  const cached = compiled.get(key);
  if (cached) return cached;
  const ropeOk = (d / h) % 2 === 0;
  const fns = [
    packKernel(d),
    unpackKernel(d),
    projectKernel("project_qkv", d, 3 * d),
    projectKernel("project_qkv_back", 3 * d, d),
    projectKernel("project_out", d, d),
    weightGradientKernel("weight_gradient_qkv", d, 3 * d),
    weightGradientKernel("weight_gradient_out", d, d),
    forwardKernel(d, h),
    forwardKernel(d, h, true),
    backwardKernel(d, h),
    ...(ropeOk ? [ropeKernel(d, h, false), ropeKernel(d, h, true)] : []),
  ];
  const { memory, kernel } = instantiate(fns);
  const noRope: Kernel = () => {
    throw new Error(`RoPE needs an even head dim, got k=${d / h}`);
  };
  const kernels: AttentionKernels = {
    d,
    h,
    memory,
    pack: kernel("pack"),
    unpack: kernel("unpack"),
    projectQkv: kernel("project_qkv"),
    projectQkvBack: kernel("project_qkv_back"),
    projectOut: kernel("project_out"),
    weightGradientQkv: kernel("weight_gradient_qkv"),
    weightGradientOut: kernel("weight_gradient_out"),
    forward: kernel("forward"),
    forwardKeep: kernel("forward_keep"),
    backward: kernel("backward"),
    rope: ropeOk ? kernel("rope") : noRope,
    ropeInverse: ropeOk ? kernel("rope_inverse") : noRope,
  };
  compiled.set(key, kernels);
  return kernels;
}
