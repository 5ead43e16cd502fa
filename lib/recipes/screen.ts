/**
 * Learning-rate screens (training revision 3's protocol, lib/recipes/protocol.ts): for each setting a problem trains,
 * the same grid of learning rates for every model, one seed, half the setting's budget, the model's one
 * architecture (heads, initialisation) unchanged. `chooseRecipe` picks the winner from the finished runs;
 * lib/recipes/chosen.ts records the winners the problems train with, and a test keeps that table equal to what the
 * committed screens say.
 */
import type { ExperimentConfig, ModelName } from "../training/config.ts";
import type { RunResult } from "../store/results.ts";
import { accuracyAt } from "../store/results.ts";
import { SCREEN_LRS } from "./protocol.ts";

export { SCREEN_LRS };

/** One setting a problem trains, screened for its recipe. */
export interface ScreenSetting {
  /** e.g. "p2-tf-rope-M4": the problem it serves, the model and what distinguishes it. */
  readonly id: string;
  readonly model: ModelName;
  readonly K: number;
  readonly d: number;
  readonly M: number;
  readonly tau: number;
  /** The screen's step budget (half the setting's budget in its problem). */
  readonly steps: number;
}

/** The recipe a screen varies. */
export interface ScreenedRecipe {
  readonly heads: number;
  readonly lr: number;
  /** The initialisation scheme, or null for the default. */
  readonly init: string | null;
}

/** Every recipe of the grid (the learning rates `lrs`, the model's own heads and initialisation), in order. */
export function gridOf(_s: ScreenSetting, lrs: readonly number[] = SCREEN_LRS): ScreenedRecipe[] {
  return lrs.map((lr) => ({ heads: 0, lr, init: null }));
}

/** The label of a recipe within its setting, e.g. "p1-tf-rope heads=4 lr=0.01 init=pytorch". */
export function recipeLabel(s: ScreenSetting, r: ScreenedRecipe): string {
  const heads = r.heads === 0 ? "" : ` heads=${r.heads}`;
  return `${s.id}${heads} lr=${r.lr}${r.init === null ? "" : ` init=${r.init}`}`;
}

/** The config of one screen run at training length L. */
export function screenConfig(
  s: ScreenSetting,
  r: ScreenedRecipe,
  L: number,
  seed: number,
  common: Partial<ExperimentConfig>,
): ExperimentConfig {
  return {
    model: s.model,
    K: s.K,
    d: s.d,
    M: s.M,
    L,
    tau: s.tau,
    seed,
    ...(r.heads === 0 ? {} : { heads: r.heads }),
    ...(r.init === null ? {} : { init: r.init }),
    ...common,
    lr: r.lr, // the grid's rate, whatever else common sets
    steps: common.steps ?? s.steps,
  } as ExperimentConfig;
}

/** Whether a run belongs to this setting (same model and task). */
export function runOf(s: ScreenSetting, r: RunResult): boolean {
  const c = r.config;
  return c.model === s.model && c.K === s.K && c.d === s.d && c.M === s.M && c.tau === s.tau;
}

/** The recipe a finished run used. */
export function recipeOfRun(r: RunResult): ScreenedRecipe {
  const c = r.config as unknown as Record<string, unknown>;
  return { heads: r.config.heads, lr: r.config.lr, init: typeof c.init === "string" ? c.init : null };
}

/** Accuracy at L from which a screen run counts as having solved the task (runs above it tie on accuracy). */
export const SOLVED = 0.99;

/**
 * The screen's winner: the highest accuracy at L at the end of the budget, where every run at or above SOLVED
 * ties; ties go to the run that converged first, then to the smaller learning rate. Null when no run finished
 * without diverging.
 */
export function chooseRecipe(runs: readonly RunResult[]): RunResult | null {
  const ok = runs.filter((r) => r.status !== "diverged");
  if (ok.length === 0) return null;
  const score = (r: RunResult): number[] => [
    -Math.min(SOLVED, accuracyAt(r, r.config.L) ?? 0),
    r.convergedStep ?? Infinity,
    r.config.lr,
  ];
  return [...ok].sort((a, b) => {
    const x = score(a), y = score(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  })[0];
}
