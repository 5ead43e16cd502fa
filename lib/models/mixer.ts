/**
 * What a sequence mixer is: a causal map [b, l, d] -> [b, l, d] with its own weights, and the factory that
 * draws those weights from the init stream. Each kind lives in its own file (attention_mixer.ts,
 * mamba_mixer.ts); mixers.ts lists them all.
 *
 * Glossary: b batch, l length, d model dim.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { ParamStore } from "./param_store.ts";

/** A sequence mixer: [b, l, d] -> [b, l, d], causal. */
export interface Mixer {
  apply(x: tf.Tensor3D): tf.Tensor3D;
  /**
   * Optional: the output at the last position only, [b, 1, d]: the values of apply(x)[:, l - 1] and, for a
   * gradient that is zero before the last position, the same gradients. A model's last layer uses it when the
   * readout reads the last position (the Mamba block then skips its gate and out_proj elsewhere).
   */
  applyLast?(x: tf.Tensor3D): tf.Tensor3D;
}

/** How one kind of mixer is named and built. */
export interface MixerFactory {
  /** The kind's part of its parameter names: layer `i`'s weights are named `layer<i>.<scope>.<weight>`. */
  readonly scope: string;
  /** Draw the mixer's weights from `store` (always in the same order) and return it; `name` prefixes them. */
  readonly build: (store: ParamStore, name: string, c: ModelConfig) => Mixer;
}
