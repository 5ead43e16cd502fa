/**
 * The Mamba mixer: the reference Mamba block around the fused core (mamba_core.ts).
 *
 * Glossary: b batch, l length, d model dim, e inner dim (2d), n state dim, r dt rank, k conv width.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { MambaCoreWeights } from "./mamba_core.ts";
import type { ParamStore } from "./param_store.ts";
import type { Mixer } from "./mixer.ts";
import { layersFor } from "./layers.ts";

/**
 * Mamba block around the fused core (see mamba_core.ts): in-projections to x and z, the core
 * (conv, SiLU, x_proj, dt_proj + softplus, selective scan, D skip, SiLU(z) gate), out-projection.
 * Initialisation follows the reference Mamba: S4D-real A, dt bias = softplus^-1(dt) with
 * dt log-uniform in [1e-3, 1e-1], D = 1, nn.Linear-style uniform weights.
 */
export function mambaMixer(store: ParamStore, name: string, c: ModelConfig): Mixer {
  const d = c.d, e = c.mambaInner, n = c.mambaState, r = c.dtRank, k = c.convWidth;
  const inX = store.uniform(`${name}.in_proj.x`, [d, e], 1 / Math.sqrt(d)) as tf.Variable<tf.Rank.R2>;
  const inZ = store.uniform(`${name}.in_proj.z`, [d, e], 1 / Math.sqrt(d)) as tf.Variable<tf.Rank.R2>;
  const convW = store.uniform(`${name}.conv.w`, [e, k], 1 / Math.sqrt(k)) as tf.Variable<tf.Rank.R2>;
  const convB = store.uniform(`${name}.conv.b`, [e], 1 / Math.sqrt(k)) as tf.Variable<tf.Rank.R1>;
  const xProj = store.uniform(`${name}.x_proj`, [e, r + 2 * n], 1 / Math.sqrt(e)) as tf.Variable<tf.Rank.R2>;
  const dtProj = store.uniform(`${name}.dt_proj.w`, [r, e], 1 / Math.sqrt(r)) as tf.Variable<tf.Rank.R2>;
  const dtMin = 1e-3, dtMax = 1e-1;
  const bias = new Float32Array(e);
  for (let i = 0; i < e; i++) {
    const dt = Math.max(1e-4, Math.exp(store.double() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)));
    bias[i] = dt + Math.log(-Math.expm1(-dt)); // inverse softplus
  }
  const dtBias = store.add(`${name}.dt_proj.b`, [e], bias) as tf.Variable<tf.Rank.R1>;
  const aLogValues = new Float32Array(e * n);
  for (let i = 0; i < e; i++) {
    for (let s = 0; s < n; s++) aLogValues[i * n + s] = Math.log(s + 1);
  }
  const aLog = store.add(`${name}.A_log`, [e, n], aLogValues) as tf.Variable<tf.Rank.R2>;
  const D = store.constant(`${name}.D`, [e], 1) as tf.Variable<tf.Rank.R1>;
  const out = store.uniform(`${name}.out_proj`, [e, d], 1 / Math.sqrt(e)) as tf.Variable<tf.Rank.R2>;
  const core: MambaCoreWeights = { convW, convB, xProj, dtProj, dtBias, aLog, D };
  const { mambaBlock, mambaBlockLast } = layersFor(c);
  const p = { inX, inZ, out };
  return {
    apply: (x) => mambaBlock(x, p, core), // [b, l, d]
    ...(mambaBlockLast ? { applyLast: (x: tf.Tensor3D) => mambaBlockLast(x, p, core) } : {}), // [b, 1, d]
  };
}
