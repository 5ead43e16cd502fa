/**
 * The Mamba mixer: the reference Mamba block around the fused core (mamba_core.ts), and `MAMBA_WEIGHTS`, the
 * table of its weights' names and shapes that the streaming forward and the probes read them by
 * (model_weights.ts).
 *
 * Glossary: b batch, l length, d model dim, e inner dim (2d), n state dim, r dt rank, k conv width.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { MambaCoreWeights, MambaProjections } from "./mamba_core.ts";
import type { ParamStore } from "./param_store.ts";
import { type Mixer, weightsOf, type WeightTable } from "./mixer.ts";
import { layersFor } from "./layers.ts";

/** The block's weights as the layers take them: its projections and its core's seven weights. */
export type MambaWeights = MambaProjections & MambaCoreWeights;

/** Each weight of a block: its name after the block's scope and its shape, in the order `mambaMixer` draws them. */
export const MAMBA_WEIGHTS: WeightTable<keyof MambaWeights> = {
  inX: { name: "in_proj.x", shape: (c) => [c.d, c.mambaInner] }, // [d, e]
  inZ: { name: "in_proj.z", shape: (c) => [c.d, c.mambaInner] }, // [d, e]
  convW: { name: "conv.w", shape: (c) => [c.mambaInner, c.convWidth] }, // [e, k]
  convB: { name: "conv.b", shape: (c) => [c.mambaInner] }, // [e]
  xProj: { name: "x_proj", shape: (c) => [c.mambaInner, c.dtRank + 2 * c.mambaState] }, // [e, r + 2n]
  dtProj: { name: "dt_proj.w", shape: (c) => [c.dtRank, c.mambaInner] }, // [r, e]
  dtBias: { name: "dt_proj.b", shape: (c) => [c.mambaInner] }, // [e]
  aLog: { name: "A_log", shape: (c) => [c.mambaInner, c.mambaState] }, // [e, n]
  D: { name: "D", shape: (c) => [c.mambaInner] }, // [e]
  out: { name: "out_proj", shape: (c) => [c.mambaInner, c.d] }, // [e, d]
};

/**
 * Mamba block around the fused core (see mamba_core.ts): in-projections to x and z, the core
 * (conv, SiLU, x_proj, dt_proj + softplus, selective scan, D skip, SiLU(z) gate), out-projection.
 * Initialisation follows the reference Mamba: S4D-real A, dt bias = softplus^-1(dt) with
 * dt log-uniform in [1e-3, 1e-1], D = 1, nn.Linear-style uniform weights.
 */
export function mambaMixer(store: ParamStore, name: string, c: ModelConfig): Mixer {
  const d = c.d, e = c.mambaInner, n = c.mambaState, r = c.dtRank, k = c.convWidth;
  const spec = weightsOf(MAMBA_WEIGHTS, name, c, (full, shape) => ({ name: full, shape }));
  const uniform = (w: { name: string; shape: number[] }, bound: number) => store.uniform(w.name, w.shape, bound);
  // drawn in this order from the init stream (the order is part of the initial weights)
  const inX = uniform(spec.inX, 1 / Math.sqrt(d)) as tf.Variable<tf.Rank.R2>;
  const inZ = uniform(spec.inZ, 1 / Math.sqrt(d)) as tf.Variable<tf.Rank.R2>;
  const convW = uniform(spec.convW, 1 / Math.sqrt(k)) as tf.Variable<tf.Rank.R2>;
  const convB = uniform(spec.convB, 1 / Math.sqrt(k)) as tf.Variable<tf.Rank.R1>;
  const xProj = uniform(spec.xProj, 1 / Math.sqrt(e)) as tf.Variable<tf.Rank.R2>;
  const dtProj = uniform(spec.dtProj, 1 / Math.sqrt(r)) as tf.Variable<tf.Rank.R2>;
  const dtMin = 1e-3, dtMax = 1e-1;
  const bias = new Float32Array(e);
  for (let i = 0; i < e; i++) {
    const dt = Math.max(1e-4, Math.exp(store.double() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)));
    bias[i] = dt + Math.log(-Math.expm1(-dt)); // inverse softplus
  }
  const dtBias = store.add(spec.dtBias.name, spec.dtBias.shape, bias) as tf.Variable<tf.Rank.R1>;
  const aLogValues = new Float32Array(e * n);
  for (let i = 0; i < e; i++) {
    for (let s = 0; s < n; s++) aLogValues[i * n + s] = Math.log(s + 1);
  }
  const aLog = store.add(spec.aLog.name, spec.aLog.shape, aLogValues) as tf.Variable<tf.Rank.R2>;
  const D = store.constant(spec.D.name, spec.D.shape, 1) as tf.Variable<tf.Rank.R1>;
  const out = uniform(spec.out, 1 / Math.sqrt(e)) as tf.Variable<tf.Rank.R2>;
  const core: MambaCoreWeights = { convW, convB, xProj, dtProj, dtBias, aLog, D };
  const { mambaBlock, mambaBlockLast } = layersFor(c);
  const p = { inX, inZ, out };
  return {
    apply: (x) => mambaBlock(x, p, core), // [b, l, d]
    ...(mambaBlockLast ? { applyLast: (x: tf.Tensor3D) => mambaBlockLast(x, p, core) } : {}), // [b, 1, d]
  };
}
