/**
 * The recipe table: every setting the problems train, and the learning rate its screen chose (training revision
 * 3's protocol, lib/recipes/protocol.ts: the lr alone is screened, per model and setting, each delay at its own
 * delay, on one grid for every model). Problems call `recipeFor(id)`; a row whose `chosen` is null has not been
 * screened yet and trains with the model table's default lr (lib/models/model_table.ts), which the reports say.
 * tests/recipes_test.ts keeps every filled row equal to what the committed screen (reports/recipes) chooses.
 */
import { type ExperimentConfig, MODEL_NAMES, type ModelName } from "../training/config.ts";
import type { ScreenedRecipe, ScreenSetting } from "./screen.ts";
import { BUDGETS, SCREEN_SHARE } from "./protocol.ts";

/** One screened setting and its chosen recipe (null until its screen has finished and been read). */
export interface RecipeRow {
  readonly setting: ScreenSetting;
  readonly chosen: ScreenedRecipe | null;
}

/** The row of one setting: its screen runs at SCREEN_SHARE of `budget`, at the setting's own task. */
function row(
  id: string,
  model: ModelName,
  task: { d: number; M: number; tau: number },
  budget: number,
  lr: number | null,
): RecipeRow {
  return {
    setting: { id, model, K: 16, ...task, steps: Math.round(budget * SCREEN_SHARE) },
    chosen: lr === null ? null : { heads: 0, lr, init: null },
  };
}

/** Problem 1 trains every model of the model table. */
const P1_MODELS: readonly ModelName[] = MODEL_NAMES;
const P2_MODELS: readonly ModelName[] = ["mamba", "tf-rope", "hybrid"];

/**
 * The learning rate each screen chose, by setting id (absent: not screened yet), as `deno task screens` prints them
 * from reports/recipes.
 */
const CHOSEN: Readonly<Record<string, number>> = {
  "p1-tf-learned-tau1": 1e-2,
  "p1-tf-rope-tau1": 4.64e-3,
  "p1-tf-nope-tau1": 4.64e-3,
  "p1-mamba-tau1": 4.64e-3,
  "p1-hybrid-tau1": 1e-2,
  "p1-tf-learned-tau5": 1e-2,
  "p1-tf-rope-tau5": 1e-2,
  "p1-tf-nope-tau5": 2.15e-3,
  "p1-mamba-tau5": 2.15e-3,
  "p1-hybrid-tau5": 1e-2,
  "p2-mamba-M4": 4.64e-3,
  "p2-tf-rope-M4": 1e-2,
  "p2-hybrid-M4": 2.15e-3,
  "p2-mamba-M8": 4.64e-3,
  "p2-tf-rope-M8": 2.15e-3,
  "p2-hybrid-M8": 4.64e-3, // 1e-2 collapsed (COLLAPSED)
  "p2-mamba-M16": 4.64e-3,
  "p2-tf-rope-M16": 1e-2,
  "p2-hybrid-M16": 4.64e-3,
  "p2-tf-rope-d64-M4": 2.15e-3,
  "p2-tf-rope-d64-M8": 2.15e-3,
  "p2-tf-rope-d64-M16": 1e-3,
  "p3-mamba-d64-M4": 2.15e-3,
};

/**
 * Rates at which a setting's problem runs collapsed (lib/recipes/protocol.ts, `collapsed`), by setting id: the
 * screen's ranking skips them, so CHOSEN holds the next rate it ranks. tests/recipes_test.ts checks both ways against
 * the committed runs: every rate here has a collapsed run, and no run at a chosen rate collapsed.
 */
export const COLLAPSED: Readonly<Record<string, readonly number[]>> = {
  // 4 of 5 seeds: 100% by step 1,850-4,700, then back to chance (loss ln 16) from step 9,750-36,000.
  "p2-hybrid-M8": [1e-2],
};

export const RECIPE_TABLE: readonly RecipeRow[] = [
  // Problem 1: every model at both delays, d = 8, M = 1.
  ...[1, 5].flatMap((tau) =>
    P1_MODELS.map((m) =>
      row(`p1-${m}-tau${tau}`, m, { d: 8, M: 1, tau }, BUDGETS.p1, CHOSEN[`p1-${m}-tau${tau}`] ?? null)
    )
  ),
  // Problem 2: the three models at every M, d = 8, tau = 1 (Problem 3 reuses the Mamba rows' runs).
  ...[4, 8, 16].flatMap((M) =>
    P2_MODELS.map((m) => row(`p2-${m}-M${M}`, m, { d: 8, M, tau: 1 }, BUDGETS.p2, CHOSEN[`p2-${m}-M${M}`] ?? null))
  ),
  // Problem 2's capacity control: RoPE at d = 64, every M.
  ...[4, 8, 16].map((M) =>
    row(
      `p2-tf-rope-d64-M${M}`,
      "tf-rope",
      { d: 64, M, tau: 1 },
      BUDGETS.p2Control,
      CHOSEN[`p2-tf-rope-d64-M${M}`] ?? null,
    )
  ),
  // Problem 3: Mamba at d = 64, every M at tau = 1, and M = 16 at tau = 10.
  ...[4, 8, 16].map((M) =>
    row(`p3-mamba-d64-M${M}`, "mamba", { d: 64, M, tau: 1 }, BUDGETS.p3, CHOSEN[`p3-mamba-d64-M${M}`] ?? null)
  ),
  row(
    "p3-mamba-d64-M16-tau10",
    "mamba",
    { d: 64, M: 16, tau: 10 },
    BUDGETS.p3,
    CHOSEN["p3-mamba-d64-M16-tau10"] ?? null,
  ),
];

/** The row with this id, or an error naming the known ids. */
export function recipeRow(id: string): RecipeRow {
  const row = RECIPE_TABLE.find((r) => r.setting.id === id);
  if (!row) throw new Error(`no recipe row "${id}"; known: ${RECIPE_TABLE.map((r) => r.setting.id).join(", ")}`);
  return row;
}

/** The settings whose recipe was asked for since the last `takeUnscreened()` but is not screened yet. */
const unscreened = new Set<string>();

/**
 * The config fields of the recipe chosen for setting `id` ({} when unscreened: the model's default lr, which a
 * problem command refuses to train without an explicit --lr; see `takeUnscreened`).
 */
export function recipeFor(id: string): Partial<ExperimentConfig> {
  const c = recipeRow(id).chosen;
  if (c === null) unscreened.add(id);
  return c === null ? {} : { lr: c.lr };
}

/** The unscreened settings `recipeFor` was asked for since the last call, in order; clears the list. */
export function takeUnscreened(): string[] {
  const ids = [...unscreened];
  unscreened.clear();
  return ids;
}
