/**
 * What a model is built from: the task's sizes it needs (K, d, L and the longest length it will see), its row of
 * the model table (mixers, positional encoding) and the dimensions derived from them, in one place (after
 * mamba.py's `MambaConfig`). The training config (lib/training/config.ts) validates the user's settings and
 * calls `modelDims` once; the model code reads only this.
 *
 * Glossary: d model dim, e Mamba inner dim, n state size, r dt rank, w conv width, h heads.
 */
import { type MixerKind, type ModelName, modelSpec, type PositionalEncoding } from "./model_table.ts";

/** The initial-weight schemes (lib/training/config.ts INIT_CHOICES documents them). */
export type InitScheme = "pytorch" | "scaled-normal";

/** The layer implementations: the fused WebAssembly kernels, or the plain tf-op references. */
export type Kernels = "fast" | "reference";

/** The sizes of a Mamba layer a user may set (e = expand d). */
export interface MambaSizes {
  readonly stateSize: number;
  readonly expand: number;
  readonly convWidth: number;
}

/** Everything the model code reads. */
export interface ModelConfig extends MambaSizes {
  readonly model: ModelName;
  readonly K: number;
  readonly d: number;
  readonly L: number;
  /** Rows of a learned position table: the longest length the model is evaluated at (only the first L trained). */
  readonly maxLen: number;
  /** Attention heads (0 for a model without attention). */
  readonly heads: number;
  readonly init: InitScheme;
  readonly kernels: Kernels;
  readonly mixers: readonly MixerKind[];
  readonly pe: PositionalEncoding;
  /** Mamba inner dim e = expand d, state dim n, dt rank r = ceil(d / 16). */
  readonly mambaInner: number;
  readonly mambaState: number;
  readonly dtRank: number;
}

/** The model's derived values: its table row's mixers and positions, and Mamba's dimensions. */
export function modelDims(
  model: ModelName,
  d: number,
  sizes: MambaSizes,
): Pick<ModelConfig, "mixers" | "pe" | "mambaInner" | "mambaState" | "dtRank"> {
  const spec = modelSpec(model);
  return {
    mixers: spec.mixers,
    pe: spec.pe,
    mambaInner: sizes.expand * d,
    mambaState: sizes.stateSize,
    dtRank: Math.ceil(d / 16),
  };
}
