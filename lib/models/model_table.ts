/**
 * The model table: every model by name, with everything that differs between models: its mixers (kinds from
 * mixers.ts), positional encoding, default training recipe and report colour. Adding a model built from
 * existing mixers is one row here; config.ts, the CLI, the reports, bench and the tests all read this table.
 *
 * This file holds data only (no tf), so configs and reports can import it without loading the models.
 */
/**
 * The kinds of sequence mixer a model row may list; each has its layer in mixers.ts (`MIXERS` must cover exactly
 * these, which the compiler checks there).
 */
export type MixerKind = "attention" | "mamba";

/** How a model sees positions: a learned table added to the input, RoPE inside attention, or nothing. */
export type PositionalEncoding = "learned" | "rope" | "none";

/** A training recipe: the optimiser settings a model trains with unless a flag overrides them. */
export interface Recipe {
  readonly lr: number;
  readonly heads: number;
  readonly warmup: number;
  readonly clip: number;
}

/** A model's default recipe, chosen from measured learning curves (see README, "Training recipes"). */
export interface RecipeSpec extends Recipe {
  /** Learning rate at delays tau > 1 (absent: `lr` at every tau). */
  readonly lrDelayed?: number;
}

/** One row of the model table. */
export interface ModelSpec {
  /** The mixer of each residual layer, first to last. */
  readonly mixers: readonly MixerKind[];
  readonly pe: PositionalEncoding;
  readonly recipe: RecipeSpec;
  /** The model's hue on every chart (CSS hex colour, #rrggbb); settings of one model get shades of it. */
  readonly color: string;
  /** A few words for people: what the model is. */
  readonly label: string;
}

/**
 * Every attention layer has 2 heads (training revision 3's protocol, lib/recipes/protocol.ts: one architecture per
 * model at every M and tau; head size 4 at d = 8). The lr is a default for one-off runs: the problems train with
 * the screened one (lib/recipes/chosen.ts).
 */
const TRANSFORMER_RECIPE: RecipeSpec = { lr: 1e-2, heads: 2, warmup: 100, clip: 1 };
/** lr 2e-3 at tau = 1, 3e-3 at longer delays (tau = 5 needed it); heads only for a model with attention. */
const MAMBA_RECIPE: RecipeSpec = { lr: 2e-3, lrDelayed: 3e-3, heads: 0, warmup: 100, clip: 1 };

/** Every model, in the order reports list them (the assignment's order). */
export const MODEL_TABLE = {
  "tf-learned": {
    mixers: ["attention", "attention"],
    pe: "learned",
    recipe: TRANSFORMER_RECIPE,
    color: "#4269d0",
    label: "Transformer, learned positions",
  },
  "tf-rope": {
    mixers: ["attention", "attention"],
    pe: "rope",
    recipe: TRANSFORMER_RECIPE,
    color: "#e69500",
    label: "Transformer, RoPE",
  },
  "tf-nope": {
    mixers: ["attention", "attention"],
    pe: "none",
    recipe: TRANSFORMER_RECIPE,
    color: "#ff725c",
    label: "Transformer, no positional encoding",
  },
  "mamba": {
    mixers: ["mamba", "mamba"],
    pe: "none",
    recipe: MAMBA_RECIPE,
    color: "#3ca951",
    label: "Mamba",
  },
  "hybrid": {
    mixers: ["mamba", "attention"],
    pe: "none",
    recipe: { ...MAMBA_RECIPE, heads: 2 },
    color: "#a463f2",
    label: "Hybrid: Mamba, then attention",
  },
} as const satisfies Record<string, ModelSpec>;

/** The name of a model, as configs, flags and results spell it. */
export type ModelName = keyof typeof MODEL_TABLE;

/** Every model name, in table order. */
export const MODEL_NAMES: readonly ModelName[] = Object.keys(MODEL_TABLE) as ModelName[];

/** Whether `name` is a row of the table. */
export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_TABLE, name);
}

/** The row of `model`; throws for a name that is not in the table. */
export function modelSpec(model: ModelName): ModelSpec {
  if (!isModelName(model)) throw new Error(`unknown model ${String(model)} (known: ${MODEL_NAMES.join(", ")})`);
  return MODEL_TABLE[model];
}

/** The default recipe of `spec` at delay `tau`. */
export function recipeAt(spec: ModelSpec, tau: number): Recipe {
  const { lr, lrDelayed, heads, warmup, clip } = spec.recipe;
  return { lr: tau > 1 ? lrDelayed ?? lr : lr, heads, warmup, clip };
}

/** The default recipe of `model` at delay `tau`. */
export function defaultRecipe(model: ModelName, tau: number): Recipe {
  return recipeAt(modelSpec(model), tau);
}
