/**
 * The layer implementations a config asks for: the fast kernels (the default), or the plain tf-op references
 * they are tested against (`kernels: "reference"`). One choice per model, so mixers never check it themselves.
 */
import type { ModelConfig } from "./config.ts";
import { linear, linearReference } from "./linear.ts";
import { causalAttention, causalAttentionReference } from "./attention.ts";
import { mambaCore, mambaCoreReference } from "./mamba_core.ts";
import { layerNorm, layerNormReference } from "./layer_norm.ts";
import { readoutLoss, readoutLossReference } from "./readout_loss.ts";
import { addPositions, addPositionsReference } from "./learned_positions.ts";
import { mambaBlock, mambaBlockLast, mambaBlockReference } from "./mamba_block.ts";

/** One implementation of each layer, all with the fast kernels' signatures. */
export interface Layers {
  readonly linear: typeof linear;
  readonly attention: typeof causalAttention;
  readonly mambaCore: typeof mambaCore;
  readonly layerNorm: typeof layerNorm;
  readonly readoutLoss: typeof readoutLoss;
  readonly addPositions: typeof addPositions;
  readonly mambaBlock: typeof mambaBlock;
  /** The block at the last position only (fast layers only: the references run the model exactly as before). */
  readonly mambaBlockLast?: typeof mambaBlockLast;
}

/** The fast layers, or the references when `c.kernels` is "reference". */
export function layersFor(c: ModelConfig): Layers {
  return c.kernels === "reference"
    ? {
      linear: linearReference,
      attention: causalAttentionReference,
      mambaCore: mambaCoreReference,
      layerNorm: layerNormReference,
      readoutLoss: readoutLossReference,
      addPositions: addPositionsReference,
      mambaBlock: mambaBlockReference,
    }
    : {
      linear,
      attention: causalAttention,
      mambaCore,
      layerNorm,
      readoutLoss,
      addPositions,
      mambaBlock,
      mambaBlockLast,
    };
}
