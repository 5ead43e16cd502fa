/**
 * The one model of Recall Lab, assembled from a config:
 *
 *   V[token] (+ learned position) -> [x + mixer(LN(x))] x 2 -> LN -> readout of the last position -> K logits
 *
 * Transformer, Mamba and Hybrid differ only in their mixer list (`config.mixers`) and positional encoding
 * (`config.pe`). The token embedding V is fixed (numpy seed(0), unit rows), never trained.
 *
 * Glossary: b batch, l length, d model dim, e Mamba inner dim (2d), n Mamba state dim, r dt rank,
 * h heads, K vocabulary size, P rows of the learned position table (3L).
 */
import * as tf from "@tensorflow/tfjs";
import type { MixerKind, ResolvedConfig } from "../training/config.ts";
import type { RandomStream } from "../task/random.ts";
import { embedding } from "../task/embedding.ts";
import { layerNorm, type LayerNormWeights } from "./layer_norm.ts";
import { linear, linearReference } from "./linear.ts";
import { type AttentionWeights, causalAttention, causalAttentionReference } from "./attention.ts";
import { mambaCore, mambaCoreReference, type MambaCoreWeights } from "./mamba_core.ts";

// ---------------------------------------------------------------------------------------------------------
// Parameter initialisation (all from the run's "init" stream).

/** A named trainable parameter, so tests and counts can refer to it. */
export interface Param {
  readonly name: string;
  readonly variable: tf.Variable;
}

class ParamStore {
  readonly params: Param[] = [];
  readonly #rng: RandomStream;
  constructor(rng: RandomStream) {
    this.#rng = rng;
  }
  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    const variable = tf.variable(tf.tensor(values, shape), true, name);
    this.params.push({ name, variable });
    return variable;
  }
  /** A parameter whose entries are `draw()` in row-major order. */
  fill(name: string, shape: number[], draw: () => number): tf.Variable {
    const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < v.length; i++) v[i] = draw();
    return this.add(name, shape, v);
  }
  /** N(0, std^2) entries. */
  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.fill(name, shape, () => std * this.#rng.gaussian());
  }
  /** U(-bound, bound) entries (PyTorch's nn.Linear default uses bound = 1/sqrt(fan_in)). */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    return this.fill(name, shape, () => bound * (2 * this.#rng.double() - 1));
  }
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.fill(name, shape, () => value);
  }
  /** Draw a raw double from the init stream (for inits that need their own formula). */
  double(): number {
    return this.#rng.double();
  }
}

function initLayerNorm(
  store: ParamStore,
  name: string,
  d: number,
): LayerNormWeights {
  return {
    gain: store.constant(`${name}.gain`, [d], 1) as tf.Variable<tf.Rank.R1>,
    bias: store.constant(`${name}.bias`, [d], 0) as tf.Variable<tf.Rank.R1>,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Mixers.

/** A sequence mixer: [b, l, d] -> [b, l, d], causal. */
interface Mixer {
  readonly kind: MixerKind;
  apply(x: tf.Tensor3D): tf.Tensor3D;
}

/** The layer implementations a config asks for: the fast kernels, or the plain tf-op references. */
interface Layers {
  readonly linear: typeof linear;
  readonly attention: typeof causalAttention;
  readonly mambaCore: typeof mambaCore;
}

function layersFor(c: ResolvedConfig): Layers {
  return c.kernels === "reference"
    ? { linear: linearReference, attention: causalAttentionReference, mambaCore: mambaCoreReference }
    : { linear, attention: causalAttention, mambaCore };
}

function attentionMixer(
  store: ParamStore,
  name: string,
  c: ResolvedConfig,
): Mixer {
  const d = c.d, std = 1 / Math.sqrt(d);
  const w: AttentionWeights = {
    wq: store.normal(`${name}.wq`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wk: store.normal(`${name}.wk`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wv: store.normal(`${name}.wv`, [d, d], std) as tf.Variable<tf.Rank.R2>,
    wo: store.normal(
      `${name}.wo`,
      [d, d],
      std / Math.sqrt(2 * c.mixers.length),
    ) as tf.Variable<tf.Rank.R2>,
  };
  const opts = { heads: c.heads, rope: c.pe === "rope" };
  const { attention } = layersFor(c);
  return { kind: "attention", apply: (x) => attention(x, w, opts) };
}

/**
 * Mamba block around the fused core (see mamba_core.ts): in-projections to x and z, the core
 * (conv, SiLU, x_proj, dt_proj + softplus, selective scan, D skip, SiLU(z) gate), out-projection.
 * Initialisation follows the reference Mamba: S4D-real A, dt bias = softplus^-1(dt) with
 * dt log-uniform in [1e-3, 1e-1], D = 1, nn.Linear-style uniform weights.
 */
function mambaMixer(store: ParamStore, name: string, c: ResolvedConfig): Mixer {
  const d = c.d,
    e = c.mambaInner,
    n = c.mambaState,
    r = c.dtRank,
    k = c.convWidth;
  const inX = store.uniform(
    `${name}.in_proj.x`,
    [d, e],
    1 / Math.sqrt(d),
  ) as tf.Variable<tf.Rank.R2>;
  const inZ = store.uniform(
    `${name}.in_proj.z`,
    [d, e],
    1 / Math.sqrt(d),
  ) as tf.Variable<tf.Rank.R2>;
  const convW = store.uniform(
    `${name}.conv.w`,
    [e, k],
    1 / Math.sqrt(k),
  ) as tf.Variable<tf.Rank.R2>;
  const convB = store.uniform(
    `${name}.conv.b`,
    [e],
    1 / Math.sqrt(k),
  ) as tf.Variable<tf.Rank.R1>;
  const xProj = store.uniform(
    `${name}.x_proj`,
    [e, r + 2 * n],
    1 / Math.sqrt(e),
  ) as tf.Variable<tf.Rank.R2>;
  const dtProj = store.uniform(
    `${name}.dt_proj.w`,
    [r, e],
    1 / Math.sqrt(r),
  ) as tf.Variable<tf.Rank.R2>;
  const dtMin = 1e-3, dtMax = 1e-1;
  const bias = new Float32Array(e);
  for (let i = 0; i < e; i++) {
    const dt = Math.max(
      1e-4,
      Math.exp(
        store.double() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin),
      ),
    );
    bias[i] = dt + Math.log(-Math.expm1(-dt)); // inverse softplus
  }
  const dtBias = store.add(`${name}.dt_proj.b`, [e], bias) as tf.Variable<
    tf.Rank.R1
  >;
  const aLogValues = new Float32Array(e * n);
  for (let i = 0; i < e; i++) {
    for (let s = 0; s < n; s++) aLogValues[i * n + s] = Math.log(s + 1);
  }
  const aLog = store.add(`${name}.A_log`, [e, n], aLogValues) as tf.Variable<
    tf.Rank.R2
  >;
  const D = store.constant(`${name}.D`, [e], 1) as tf.Variable<tf.Rank.R1>;
  const out = store.uniform(
    `${name}.out_proj`,
    [e, d],
    1 / Math.sqrt(e),
  ) as tf.Variable<tf.Rank.R2>;
  const core: MambaCoreWeights = {
    convW,
    convB,
    xProj,
    dtProj,
    dtBias,
    aLog,
    D,
  };
  const { linear: project, mambaCore: scan } = layersFor(c);
  return {
    kind: "mamba",
    apply: (x) => {
      const xIn = project(x, inX) as tf.Tensor3D; // [b, l, e]
      const z = project(x, inZ) as tf.Tensor3D; // [b, l, e]
      return project(scan(xIn, z, core), out) as tf.Tensor3D; // [b, l, d]
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// The model.

export interface Model {
  readonly config: ResolvedConfig;
  readonly params: readonly Param[];
  /** Trainable parameter count (the learned position table counts all 3L rows). */
  readonly paramCount: number;
  /** Logits [b, K] at the last position of tokens [b, l]. Call inside tf.tidy. */
  logits(tokens: Int32Array, b: number, l: number): tf.Tensor2D;
  /** Hidden states [b, l, d] after the mixers (before the final norm), for tests. Call inside tf.tidy. */
  hidden(tokens: Int32Array, b: number, l: number): tf.Tensor3D;
  dispose(): void;
}

/** Build the model of `config`, drawing every initial weight from `initRng`. */
export function buildModel(
  config: ResolvedConfig,
  initRng: RandomStream,
): Model {
  const { K, d, maxLen } = config;
  const V = embedding(K, d); // [K, d], fixed
  const store = new ParamStore(initRng);
  const layers = layersFor(config);
  const pos = config.pe === "learned" ? store.normal("pos", [maxLen, d], 0.1) : undefined; // [P, d]
  const mixers: Mixer[] = [];
  const norms: LayerNormWeights[] = [];
  config.mixers.forEach((kind, i) => {
    norms.push(initLayerNorm(store, `layer${i}.norm`, d));
    mixers.push(
      kind === "attention"
        ? attentionMixer(store, `layer${i}.attn`, config)
        : mambaMixer(store, `layer${i}.mamba`, config),
    );
  });
  const finalNorm = initLayerNorm(store, "final_norm", d);
  const readout = store.uniform(
    "readout.w",
    [d, K],
    1 / Math.sqrt(d),
  ) as tf.Variable<tf.Rank.R2>;
  const readoutBias = store.constant("readout.b", [K], 0);

  function embed(tokens: Int32Array, b: number, l: number): tf.Tensor3D {
    if (tokens.length !== b * l) {
      throw new Error(
        `tokens has ${tokens.length} entries, expected ${b}x${l}`,
      );
    }
    if (pos && l > maxLen) {
      throw new Error(
        `length ${l} exceeds the position table (${maxLen} rows)`,
      );
    }
    const x = new Float32Array(b * l * d);
    for (let i = 0; i < b * l; i++) {
      x.set(V.subarray(tokens[i] * d, tokens[i] * d + d), i * d);
    }
    const xt = tf.tensor3d(x, [b, l, d]); // [b, l, d]
    return pos ? tf.add(xt, tf.slice(pos, [0, 0], [l, d])) : xt; // [b, l, d]
  }

  function hidden(tokens: Int32Array, b: number, l: number): tf.Tensor3D {
    let x = embed(tokens, b, l); // [b, l, d]
    mixers.forEach((m, i) => {
      x = tf.add(x, m.apply(layerNorm(x, norms[i]) as tf.Tensor3D)); // [b, l, d]
    });
    return x;
  }

  function logits(tokens: Int32Array, b: number, l: number): tf.Tensor2D {
    const x = hidden(tokens, b, l);
    const last = tf.reshape(tf.slice(x, [0, l - 1, 0], [b, 1, d]), [b, d]); // [b, d]
    return tf.add(
      layers.linear(layerNorm(last, finalNorm), readout),
      readoutBias,
    ) as tf.Tensor2D; // [b, K]
  }

  return {
    config,
    params: store.params,
    paramCount: store.params.reduce((s, p) => s + p.variable.size, 0),
    logits,
    hidden,
    dispose: () => store.params.forEach((p) => p.variable.dispose()),
  };
}
