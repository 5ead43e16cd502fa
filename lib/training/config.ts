/**
 * Experiment configuration: the typed input a user (or a problem script) gives, its validation with one-line
 * messages that name the flag, and `resolve()`, the single place where defaults and derived values are made.
 *
 * Field names match the command-line flags (`--K`, `--d`, `--eval-samples` for `evalSamples`, ...), so a
 * validation message can always say which flag to fix.
 */

import {
  defaultRecipe,
  type MixerKind,
  MODEL_NAMES,
  type ModelName,
  modelSpec,
  type PositionalEncoding,
} from "../models/model_table.ts";
import { type InitScheme, type Kernels, type ModelConfig, modelDims } from "../models/config.ts";
import type { Model } from "../models/model.ts";

// The model table (lib/models/model_table.ts) defines the models; these names are re-exported for the code that
// has always imported them from here.
export { defaultRecipe, MODEL_NAMES, type ModelName, type PositionalEncoding };
export type { Recipe } from "../models/model_table.ts";
export type { MixerKind };

/**
 * Which implementation of the layers a run uses: "fast" (the fused WebAssembly kernels, the default) or
 * "reference" (the same models from plain tf ops, differentiated by tf: the slow references the kernel tests
 * compare against), for checking that the kernels change no result.
 */
export const KERNEL_CHOICES = ["fast", "reference"] as const satisfies readonly Kernels[];
export type { Kernels };

/**
 * How the trainable weights start (lib/models/ draws them; tests/init_test.ts checks their statistics):
 * - "pytorch" (default): every projection as PyTorch's nn.Linear default, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 *   for weights and biases alike (attention q, k, v, out; the readout and its bias; the Mamba projections).
 *   This is the PyTorch peer's initialisation, so ours and the peer draw their runs from the same distribution
 *   (README, "Parity with the PyTorch peer"; whether it also learns faster is not settled).
 * - "scaled-normal": attention q, k, v ~ N(0, 1/d), out ~ N(0, 1/(2 d layers)) (GPT-2's residual scaling),
 *   readout bias 0; Mamba as above. The initialisation of every run before the option existed (revision 1).
 * Learned positions (N(0, 0.1^2)), LayerNorms (gain 1, bias 0) and Mamba's A_log, D and dt bias are the same
 * under both.
 */
export const INIT_CHOICES = ["pytorch", "scaled-normal"] as const satisfies readonly InitScheme[];
export type { InitScheme };

/** What a user may set. Optional fields take per-model defaults in `resolve()`. */
export interface ExperimentConfig {
  readonly model: ModelName;
  readonly K: number;
  readonly d: number;
  readonly M: number;
  readonly L: number;
  readonly tau: number;
  readonly seed: number;
  /** Training minibatch size. */
  readonly batch?: number;
  /** The step budget: every run trains exactly this many steps (unless its loss diverges). */
  readonly steps?: number;
  /** Adam peak learning rate. */
  readonly lr?: number;
  /** Attention heads (attention mixers only; 0 for models without attention). */
  readonly heads?: number;
  /** Linear warm-up steps to the peak learning rate. */
  readonly warmup?: number;
  /** Global gradient-norm clip (0: none). */
  readonly clip?: number;
  /** Fresh test sequences per evaluated length. */
  readonly evalSamples?: number;
  /** Steps between checks on the held-out test batch. */
  readonly checkEvery?: number;
  /** Size of the held-out test batch at length L. */
  readonly testBatch?: number;
  /** Consecutive checks at or above `target` that count as converged. */
  readonly patience?: number;
  readonly target?: number;
  /** The fused WebAssembly kernels ("fast", the default) or the plain tf-op references. */
  readonly kernels?: Kernels;
  /** Initial-weight scheme (INIT_CHOICES). */
  readonly init?: InitScheme;
  /**
   * Lengths beyond 3L evaluated too, as multiples of L (default 4, 8, 16: 4L, 8L and 16L), each with `evalSamples`
   * sequences. A learned position table has a row for the longest (rows beyond L are never trained).
   */
  readonly farLengths?: readonly number[];
  /** Fresh test sequences at exactly L, 2L and 3L, the lengths headlines and tables quote (evalSamples elsewhere). */
  readonly headlineSamples?: number;
  /** Mamba's state size n per channel (default 16). */
  readonly stateSize?: number;
  /** Mamba's expansion e / d (default 2: e = 2d). */
  readonly expand?: number;
  /** Mamba's causal convolution width (default 4). */
  readonly convWidth?: number;
}

/**
 * Mamba's sizes, settings since the ablations: keyed only when they differ from these defaults, so every run from
 * before they were settings keeps its key (`settingsOf`).
 */
export const MAMBA_SIZE_DEFAULTS = { stateSize: 16, expand: 2, convWidth: 4 } as const;
type MambaSizeField = keyof typeof MAMBA_SIZE_DEFAULTS;

/**
 * The user-facing settings of a run with every default filled in: exactly what can change its result, and so
 * exactly what its key hashes (lib/store/run_key.ts). Run files store this, never the derived values.
 */
export type RunSettings =
  & { readonly [F in Exclude<keyof ExperimentConfig, MambaSizeField>]-?: NonNullable<ExperimentConfig[F]> }
  & { readonly [F in MambaSizeField]?: number };

/** The fields of RunSettings, in a fixed order: `settingsOf` keeps these and nothing else. */
export const KEYED_FIELDS = [
  "model",
  "K",
  "d",
  "M",
  "L",
  "tau",
  "seed",
  "batch",
  "steps",
  "farLengths",
  "lr",
  "warmup",
  "clip",
  "heads",
  "evalSamples",
  "headlineSamples",
  "checkEvery",
  "testBatch",
  "patience",
  "target",
  "kernels",
  "init",
] as const satisfies readonly (keyof RunSettings)[];

/** Keyed after KEYED_FIELDS, each only when it is not its default (MAMBA_SIZE_DEFAULTS). */
export const KEYED_WHEN_SET: readonly MambaSizeField[] = ["stateSize", "expand", "convWidth"];

/**
 * Every value a run uses: its settings plus the values derived from them, computed once in `resolve()`; the
 * model's part (lib/models/config.ts `ModelConfig`: mixers, positions, Mamba's dimensions, the position table's
 * rows) is what the model code reads.
 */
export type ResolvedConfig = RunSettings & ModelConfig & {
  /** Every evaluated length: tau+2 .. 3L, then each of `farLengths` times L. */
  readonly evalLengths: readonly number[];
};

/** A model built from a run's resolved config (its `config` carries the task and training settings too). */
export type RunModel = Model<ResolvedConfig>;

/** The settings of a resolved config (derived values dropped): what run files store and keys hash. */
export function settingsOf(c: RunSettings): RunSettings {
  const set = KEYED_WHEN_SET.filter((f) => c[f] !== undefined && c[f] !== MAMBA_SIZE_DEFAULTS[f]);
  return Object.fromEntries([...KEYED_FIELDS, ...set].map((f) => [f, c[f]])) as unknown as RunSettings;
}

/** A config value that is out of range: `flag` names the command-line flag. */
export class ConfigError extends Error {
  readonly flag: string;
  constructor(flag: string, message: string) {
    super(`--${flag} ${message}`);
    this.name = "ConfigError";
    this.flag = flag;
  }
}

function requireIn(
  flag: string,
  value: unknown,
  kind: "integer" | "number",
  min: number,
  max: number,
  range?: string,
): number {
  const shown = range ?? (max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`);
  const ok = typeof value === "number" && Number.isFinite(value) && value >= min && value <= max &&
    (kind === "number" || Number.isInteger(value));
  if (!ok) {
    throw new ConfigError(
      flag,
      `must be ${kind === "integer" ? "an integer" : "a number"} ${shown}, got ${String(value)}`,
    );
  }
  return value as number;
}

function requireInt(flag: string, value: unknown, min: number, max: number, range?: string): number {
  return requireIn(flag, value, "integer", min, max, range);
}

function requireNumber(flag: string, value: unknown, min: number, max: number, range: string): number {
  return requireIn(flag, value, "number", min, max, range);
}

/** The AR task's fields (K, d, M, L, tau) and their cross-field limits; throws ConfigError naming the flag. */
export function checkTask(
  c: Pick<ExperimentConfig, "K" | "d" | "M" | "L" | "tau">,
): { K: number; d: number; M: number; L: number; tau: number } {
  const K = requireInt("K", c.K, 2, 4096);
  const d = requireInt("d", c.d, 1, 1024);
  const M = requireInt("M", c.M, 1, K, `in [1, K=${K}]`);
  const L = requireInt("L", c.L, 3, 4096);
  const tau = requireInt("tau", c.tau, 1, L - 2, `in [1, L-2=${L - 2}]`);
  return { K, d, M, L, tau };
}

/** The multiples of L evaluated beyond 3L unless a config says otherwise: 4L, 8L and 16L. */
export const DEFAULT_FAR_LENGTHS: readonly number[] = [4, 8, 16];

/** The longest sequence any run may be evaluated at (memory of a forward pass grows with it). */
export const MAX_EVAL_LENGTH = 16384;

/** `farLengths` checked: increasing integers > 3, the longest times L at most MAX_EVAL_LENGTH. */
export function checkFarLengths(far: unknown, L: number): readonly number[] {
  const ok = Array.isArray(far) &&
    far.every((m, i) => Number.isInteger(m) && m > 3 && m * L <= MAX_EVAL_LENGTH && (i === 0 || m > far[i - 1]));
  if (!ok) {
    throw new ConfigError(
      "far-lengths",
      `must be increasing integers > 3 (multiples of L beyond 3L) with the longest x L <= ${MAX_EVAL_LENGTH}, got ${
        JSON.stringify(far)
      }`,
    );
  }
  return far as readonly number[];
}

/** Check every field and fill defaults; throws ConfigError naming the first bad flag. */
export function resolve(c: ExperimentConfig): ResolvedConfig {
  if (!(MODEL_NAMES as readonly string[]).includes(c.model)) {
    throw new ConfigError(
      "model",
      `must be one of ${MODEL_NAMES.join(", ")}, got ${String(c.model)}`,
    );
  }
  const { K, d, M, L, tau } = checkTask(c);
  const seed = requireInt("seed", c.seed, 0, 2 ** 32 - 1);
  const recipe = defaultRecipe(c.model, tau);
  const mixers = modelSpec(c.model).mixers;
  const hasAttention = mixers.includes("attention");
  const heads = hasAttention
    ? requireInt(
      "heads",
      c.heads ?? recipe.heads,
      1,
      d,
      `in [1, d=${d}] dividing d`,
    )
    : 0;
  if (hasAttention && d % heads !== 0) {
    throw new ConfigError("heads", `must divide d=${d}, got ${heads}`);
  }
  const pe = modelSpec(c.model).pe;
  if (pe === "rope" && (d / heads) % 2 !== 0) {
    throw new ConfigError(
      "heads",
      `must leave an even head size d/heads for RoPE, got d=${d}, heads=${heads}`,
    );
  }
  if (c.init !== undefined && !(INIT_CHOICES as readonly string[]).includes(c.init)) {
    throw new ConfigError("init", `must be one of ${INIT_CHOICES.join(", ")}, got ${String(c.init)}`);
  }
  if (c.kernels !== undefined && !(KERNEL_CHOICES as readonly string[]).includes(c.kernels)) {
    throw new ConfigError("kernels", `must be one of ${KERNEL_CHOICES.join(", ")}, got ${String(c.kernels)}`);
  }
  const kernels = c.kernels ?? "fast";
  const stateSize = requireInt("state-size", c.stateSize ?? MAMBA_SIZE_DEFAULTS.stateSize, 1, 256);
  const expand = requireInt("expand", c.expand ?? MAMBA_SIZE_DEFAULTS.expand, 1, 16);
  const convWidth = requireInt("conv-width", c.convWidth ?? MAMBA_SIZE_DEFAULTS.convWidth, 1, 64);
  if (kernels === "fast" && mixers.includes("mamba")) {
    if ((expand * d) % 4 !== 0) {
      throw new ConfigError(
        "d",
        `x --expand must be a multiple of 4 for Mamba's fast kernels (their rows hold 4 channels of e = ${expand} x ` +
          `${d}); --kernels reference runs any size`,
      );
    }
    if (stateSize % 4 !== 0) {
      throw new ConfigError(
        "state-size",
        `must be a multiple of 4 for Mamba's fast scan, got ${stateSize}; --kernels reference runs any size`,
      );
    }
  }
  const farLengths = checkFarLengths(c.farLengths ?? DEFAULT_FAR_LENGTHS, L);
  const evalLengths: number[] = [];
  for (let l = tau + 2; l <= 3 * L; l++) evalLengths.push(l);
  evalLengths.push(...farLengths.map((m) => m * L));
  const maxLen = evalLengths[evalLengths.length - 1];
  const resolved: ResolvedConfig = {
    model: c.model,
    K,
    d,
    M,
    L,
    tau,
    seed,
    batch: requireInt("batch", c.batch ?? 64, 1, 65536),
    steps: requireInt("steps", c.steps ?? 20000, 1, 10_000_000),
    farLengths,
    lr: requireNumber(
      "lr",
      c.lr ?? recipe.lr,
      Number.MIN_VALUE,
      10,
      "in (0, 10]",
    ),
    warmup: requireInt("warmup", c.warmup ?? recipe.warmup, 0, 10_000_000),
    clip: requireNumber(
      "clip",
      c.clip ?? recipe.clip,
      0,
      1e9,
      ">= 0 (0 disables clipping)",
    ),
    heads,
    evalSamples: requireInt("eval-samples", c.evalSamples ?? 256, 1, 1_000_000),
    headlineSamples: requireInt("headline-samples", c.headlineSamples ?? 2048, 1, 1_000_000),
    checkEvery: requireInt("check-every", c.checkEvery ?? 50, 1, 1_000_000),
    testBatch: requireInt("test-batch", c.testBatch ?? 512, 1, 1_000_000),
    patience: requireInt("patience", c.patience ?? 3, 1, 1000),
    target: requireNumber("target", c.target ?? 0.99, 0, 1, "in [0, 1]"),
    kernels,
    init: c.init ?? "pytorch",
    maxLen,
    stateSize,
    expand,
    convWidth,
    ...modelDims(c.model, d, { stateSize, expand, convWidth }),
    evalLengths,
  };
  const gb = trainStepBytes(resolved) / 2 ** 30;
  if (gb > MAX_STEP_GIB) {
    throw new ConfigError(
      "batch",
      `x L needs about ${gb.toFixed(1)} GiB for one training step (batch ${resolved.batch}, L ${L}, d ${d}), more ` +
        `than the ${MAX_STEP_GIB} GiB the WebAssembly memory can give; lower --batch or --L`,
    );
  }
  return resolved;
}

/** The most memory one training step may need: WebAssembly memory is 32-bit (4 GiB), and the rest is in use too. */
export const MAX_STEP_GIB = 3;

/**
 * A coarse estimate of one training step's memory in bytes, from the shapes alone: per token the residual stream,
 * norms, projections and their gradients (about 24 d floats), each Mamba layer's inputs to its scan and the states
 * it keeps for the backward pass (2 e n + 10 e), each attention layer's softmax weights over the earlier positions
 * (h l / 2) and projections (8 d). Within 2x of what runs measure; it is there to refuse what cannot run.
 */
export function trainStepBytes(
  c: Pick<ResolvedConfig, "batch" | "L" | "d" | "mixers" | "heads" | "mambaInner" | "mambaState">,
): number {
  const perToken = 24 * c.d + c.mixers.reduce(
    (sum, kind) =>
      sum + (kind === "mamba" ? 2 * c.mambaInner * c.mambaState + 10 * c.mambaInner : (c.heads * c.L) / 2 + 8 * c.d),
    0,
  );
  return 4 * c.batch * c.L * perToken;
}
