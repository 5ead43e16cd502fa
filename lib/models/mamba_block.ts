/**
 * The Mamba block's computation, in_proj -> core -> out_proj (mamba_mixer.ts draws its weights), in two
 * implementations with one signature:
 * - `mambaBlockReference`: `linearReference` around `mambaCoreReference`, all plain tf ops and tf autodiff;
 * - `mambaBlock`: at model dims up to FUSED_MAX_DIM one op with the projections inside the core's kernels
 *   (mamba_core.ts `projectedCore`); wider, `linear` (XNNPACK matMuls with explicit-transpose gradients)
 *   around the fused `mambaCore`.
 *
 * Why the split: at d = 8 the three projections are [4096, 8] x [8, 16]-sized matMuls whose dispatch,
 * reshapes and gradient transposes (18 matMuls and 12 transposes per two-layer step) cost far more than
 * their arithmetic; at d = 64 the arithmetic dominates and XNNPACK (30-45 GFLOP/s measured here) is faster
 * than the x_proj-style kernels.
 *
 * Glossary: b batch, l length, d model dim, e inner dim (2d).
 */
import type * as tf from "@tensorflow/tfjs";
import {
  mambaCore,
  mambaCoreReference,
  type MambaCoreWeights,
  type MambaProjections,
  projectedCore,
} from "./mamba_core.ts";
import { linear, linearReference } from "./linear.ts";

export type { MambaProjections } from "./mamba_core.ts";

/** Largest model dim d that runs the block as one fused op (wider: matMuls around the core). */
export const FUSED_MAX_DIM = 16;

/** Plain tf: out(core(x inX, x inZ)), x [b, l, d] -> [b, l, d]. */
export function mambaBlockReference(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const xIn = linearReference(x, p.inX) as tf.Tensor3D; // [b, l, e]
  const z = linearReference(x, p.inZ) as tf.Tensor3D; // [b, l, e]
  return linearReference(mambaCoreReference(xIn, z, core), p.out) as tf.Tensor3D; // [b, l, d]
}

/** The fast block: one fused op at d <= FUSED_MAX_DIM (d a multiple of 4), else linear around mambaCore. */
export function mambaBlock(x: tf.Tensor3D, p: MambaProjections, core: MambaCoreWeights): tf.Tensor3D {
  const d = x.shape[2];
  if (d <= FUSED_MAX_DIM && d % 4 === 0) return projectedCore(x, p, core);
  const xIn = linear(x, p.inX) as tf.Tensor3D; // [b, l, e]
  const z = linear(x, p.inZ) as tf.Tensor3D; // [b, l, e]
  return linear(mambaCore(xIn, z, core), p.out) as tf.Tensor3D; // [b, l, d]
}
