/**
 * The Mamba block's computation, in_proj -> core -> out_proj (mamba_mixer.ts draws its weights), in two
 * implementations with one signature:
 * - `mambaBlockReference`: `linearReference` around `mambaCoreReference`, all plain tf ops and tf autodiff;
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
  mambaCore,
  mambaCoreReference,
  type MambaCoreWeights,
  type MambaProjections,
  projectedCore,
} from "./mamba_core.ts";
import { linear, linearReference } from "./linear.ts";

export type { MambaProjections } from "./mamba_core.ts";

/** Plain tf: out(core(x inX, x inZ)), x [b, l, d] -> [b, l, d]. */
export function mambaBlockReference(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const xIn = linearReference(x, p.inX) as tf.Tensor3D; // [b, l, e]
  const z = linearReference(x, p.inZ) as tf.Tensor3D; // [b, l, e]
  return linearReference(mambaCoreReference(xIn, z, core), p.out) as tf.Tensor3D; // [b, l, d]
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
