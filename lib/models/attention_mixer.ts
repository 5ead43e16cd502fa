/**
 * The attention mixer: causal multi-head self-attention (attention.ts), no MLP, no biases, with RoPE on queries
 * and keys when the model's positional encoding is "rope". The four [d, d] projections by the config's init
 * scheme (lib/training/config.ts INIT_CHOICES):
 * - "pytorch": U(-1/sqrt(d), 1/sqrt(d)) each, nn.Linear's default for fan_in = d (std 1/sqrt(3d)), as the
 *   PyTorch peer's q, k, v and out layers;
 * - "scaled-normal": q, k, v ~ N(0, 1/d) and out ~ N(0, 1/(2 d layers)), GPT-2's down-scaling of projections into
 *   the residual stream.
 * At d = 8 the q, k, v std is 0.204 under "pytorch" against 0.354 under "scaled-normal", so the initial attention
 * logits q.k/sqrt(d) of a LayerNormed input have std ~1/3 against ~1: scaled-normal starts with sharp,
 * input-dependent attention, pytorch with nearly uniform attention. `ATTENTION_WEIGHTS` names the four weights
 * (model_weights.ts reads a layer's weights by it).
 *
 * Glossary: b batch, l length, d model dim, h heads.
 */
import type * as tf from "@tensorflow/tfjs";
import type { ModelConfig } from "./config.ts";
import type { AttentionWeights } from "./attention.ts";
import type { ParamStore } from "./param_store.ts";
import { type Mixer, weightsOf, type WeightTable } from "./mixer.ts";
import { layersFor } from "./layers.ts";

/** Each weight of a layer: its name after the layer's scope and its shape, in the order `attentionMixer` draws them. */
export const ATTENTION_WEIGHTS: WeightTable<keyof AttentionWeights> = {
  wq: { name: "wq", shape: (c) => [c.d, c.d] }, // [d, d]
  wk: { name: "wk", shape: (c) => [c.d, c.d] },
  wv: { name: "wv", shape: (c) => [c.d, c.d] },
  wo: { name: "wo", shape: (c) => [c.d, c.d] },
};

/** Draw wq, wk, wv, wo (in that order) and return the layer [b, l, d] -> [b, l, d]. */
export function attentionMixer(store: ParamStore, name: string, c: ModelConfig): Mixer {
  const d = c.d, bound = 1 / Math.sqrt(d), std = 1 / Math.sqrt(d);
  const spec = weightsOf(ATTENTION_WEIGHTS, name, c, (full, shape) => ({ name: full, shape }));
  const draw = (part: keyof AttentionWeights, normalStd: number): tf.Variable<tf.Rank.R2> =>
    (c.init === "pytorch"
      ? store.uniform(spec[part].name, spec[part].shape, bound)
      : store.normal(spec[part].name, spec[part].shape, normalStd)) as tf.Variable<tf.Rank.R2>;
  // scaled-normal computes its stds exactly as the code before the init option did (bit-identical weights).
  const w: AttentionWeights = {
    wq: draw("wq", std),
    wk: draw("wk", std),
    wv: draw("wv", std),
    wo: draw("wo", std / Math.sqrt(2 * c.mixers.length)),
  };
  const opts = { heads: c.heads, rope: c.pe === "rope" };
  const { attention } = layersFor(c);
  return { apply: (x) => attention(x, w, opts) };
}
