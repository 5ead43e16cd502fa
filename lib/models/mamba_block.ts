/**
 * The Mamba block's computation, in_proj -> core -> out_proj (mamba_mixer.ts draws its weights), in two
 * implementations with one signature:
 * - `mambaBlockReference`: `linearReference` around `mambaCoreReference`, all plain tf ops and tf autodiff
 *   (`mambaBlockWithCache`: the same, returning every intermediate, for the probes);
 * - `mambaBlock`: one op with the projections inside the core's kernels (mamba_core.ts `projectedCore`) when
 *   the model dim d is a multiple of 4; otherwise `linear` (XNNPACK matMuls with explicit-transpose
 *   gradients) around the fused `mambaCore`.
 *
 * Why one op: at d = 8 the three projections are [4096, 8] x [8, 16]-sized matMuls whose dispatch, reshapes
 * and gradient transposes (18 matMuls and 12 transposes per two-layer step) cost far more than their
 * arithmetic. At d = 64 the arithmetic dominates; there the projections are GEMM kernels that give
 * tf.matMul's results bit for bit (lib/kernels/gemm.ts), so the op computes exactly what `linear` around the core
 * does, without the transposes, the weight gradients' [64, 4096] x [4096, 128] XNNPACK products (3.5 ms
 * each in a step, packing a fresh right-hand side every call) or the copies of x, z and their gradients
 * between tf and kernel memory.
 *
 * Glossary: b batch, l length, d model dim, e inner dim (2d).
 */
import * as tf from "@tensorflow/tfjs";
import {
  type MambaCache,
  mambaCore,
  mambaCoreReference,
  type MambaCoreWeights,
  mambaCoreWithCache,
  type MambaProjections,
  projectedCore,
} from "./mamba_core.ts";
import { linear, linearReference } from "./linear.ts";

export type { MambaCache, MambaProjections } from "./mamba_core.ts";

/** The reference block's intermediates: the core's (`MambaCache`) and the projections' around it. */
export interface MambaBlockCache extends MambaCache {
  readonly xIn: tf.Tensor3D; // [b, l, e] x inX: the conv's input
  readonly z: tf.Tensor3D; // [b, l, e] x inZ: the gate's input
  readonly gated: tf.Tensor3D; // [b, l, e] y silu(z): out_proj's input
}

/** Plain tf: out(core(x inX, x inZ)), x [b, l, d] -> [b, l, d]. */
export function mambaBlockReference(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const xIn = linearReference(x, p.inX) as tf.Tensor3D; // [b, l, e]
  const z = linearReference(x, p.inZ) as tf.Tensor3D; // [b, l, e]
  return linearReference(mambaCoreReference(xIn, z, core), p.out) as tf.Tensor3D; // [b, l, d]
}

/**
 * The reference block's output [b, l, d] (the values of `mambaBlockReference`) and every intermediate; `delta`
 * [b, l, e], when given, replaces the computed step sizes. For probes and tests; call inside tf.tidy.
 */
export function mambaBlockWithCache(
  x: tf.Tensor3D,
  p: MambaProjections,
  core: MambaCoreWeights,
  opts: { readonly delta?: tf.Tensor3D } = {},
): { out: tf.Tensor3D; cache: MambaBlockCache } {
  return tf.tidy(() => {
    const xIn = linearReference(x, p.inX) as tf.Tensor3D; // [b, l, e]
    const z = linearReference(x, p.inZ) as tf.Tensor3D; // [b, l, e]
    const { out, cache } = mambaCoreWithCache(xIn, z, core, opts); // out [b, l, e]
    return { out: linearReference(out, p.out) as tf.Tensor3D, cache: { ...cache, xIn, z, gated: out } }; // [b, l, d]
  });
}

/** The last position of the reference block, [b, 1, d] (plain tf: the full block, then a slice). */
export function mambaBlockLastReference(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const [b, l, d] = x.shape;
  return tf.slice(mambaBlockReference(x, p, core), [0, l - 1, 0], [b, 1, d]);
}

/**
 * The fast block at the last position only, [b, 1, d]: the fused op's last-position form when d is a multiple of
 * 4 (mamba_core.ts `projectedCore` with `last`), else a slice of `mambaBlock`.
 */
export function mambaBlockLast(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const [b, l, d] = x.shape;
  if (fusable(x, p)) return projectedCore(x, p, core, true);
  return tf.slice(mambaBlock(x, p, core), [0, l - 1, 0], [b, 1, d]);
}

/** Whether the fused op takes this block: d a multiple of 4 and e = 2d (the expansion its kernels are built for). */
function fusable(x: tf.Tensor3D, p: MambaProjections): boolean {
  const d = x.shape[2];
  return d % 4 === 0 && p.inX.shape[1] === 2 * d;
}

/** The fast block: one fused op when d is a multiple of 4 and e = 2d, else linear around mambaCore. */
export function mambaBlock(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  if (fusable(x, p)) return projectedCore(x, p, core);
  const xIn = linear(x, p.inX) as tf.Tensor3D; // [b, l, e]
  const z = linear(x, p.inZ) as tf.Tensor3D; // [b, l, e]
  return linear(mambaCore(xIn, z, core), p.out) as tf.Tensor3D; // [b, l, d]
}
