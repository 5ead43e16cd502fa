/**
 * The attention mixer: causal multi-head self-attention (attention.ts), no MLP, no biases, with RoPE on queries
 * and keys when the model's positional encoding is "rope". Weights N(0, 1/d), the output projection scaled
 * down by sqrt(2 x layers) as in GPT-2.
 *
 * Glossary: b batch, l length, d model dim, h heads.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ResolvedConfig } from "../training/config.ts";
import type { AttentionWeights } from "./attention.ts";
import type { ParamStore } from "./param_store.ts";
import type { Mixer } from "./mixer.ts";
import { layersFor } from "./layers.ts";

/** Draw wq, wk, wv, wo (in that order) and return the layer [b, l, d] -> [b, l, d]. */
export function attentionMixer(store: ParamStore, name: string, c: ResolvedConfig): Mixer {
  const d = c.d, std = 1 / Math.sqrt(d);
  const w: AttentionWeights = {
    wq: store.normal(`${name}.wq`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wk: store.normal(`${name}.wk`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wv: store.normal(`${name}.wv`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wo: store.normal(`${name}.wo`, [d, d], std / Math.sqrt(2 * c.mixers.length)) as tf.Variable<tf.Rank.R2>,
  };
  const opts = { heads: c.heads, rope: c.pe === "rope" };
  const { attention } = layersFor(c);
  return { apply: (x) => attention(x, w, opts) };
}
