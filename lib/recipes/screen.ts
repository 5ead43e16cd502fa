/**
 * Recipe screens: for each setting a problem depends on, a grid of heads x learning rate (x initialisation where
 * it matters), one seed, a shorter budget than the problem's, no continuation. `chooseRecipe` picks the winner from
 * the finished runs; lib/recipes/chosen.ts records the winners the problems train with, and a test keeps that table
 * equal to what the committed screens say.
 */
import type { ExperimentConfig, ModelName } from "../training/config.ts";
import { modelSpec } from "../models/model_table.ts";
import type { RunResult } from "../runs/results.ts";
import { accuracyAt } from "../runs/results.ts";

/** The learning rates screened: zoology's logspace(-4, -2, 4), to three significant figures. */
export const SCREEN_LRS = [1e-4, 4.64e-4, 2.15e-3, 1e-2] as const;
/** The head counts screened for attention mixers (those that divide d and, for RoPE, leave an even head size). */
export const SCREEN_HEADS = [1, 2, 4] as const;

/** One setting a problem trains, screened for its recipe. */
export interface ScreenSetting {
  /** e.g. "p2-tf-rope-M4": the problem it serves, the model and what distinguishes it. */
  readonly id: string;
  readonly model: ModelName;
  readonly K: number;
  readonly d: number;
  readonly M: number;
  readonly tau: number;
  /** The screen's step budget (about half the problem's base cap). */
  readonly steps: number;
  /** Initialisation schemes to screen (empty: the default only). */
  readonly inits: readonly string[];
}

/** The recipe a screen varies. */
export interface ScreenedRecipe {
  readonly heads: number;
  readonly lr: number;
  /** The initialisation scheme, or null for the default. */
  readonly init: string | null;
}

/** The head counts valid for this setting's model at width d (0 alone for models without attention). */
export function headsFor(s: ScreenSetting): readonly number[] {
  const spec = modelSpec(s.model);
  if (!spec.mixers.includes("attention")) return [0];
  return SCREEN_HEADS.filter((h) => s.d % h === 0 && (spec.pe !== "rope" || (s.d / h) % 2 === 0));
}

/** Every recipe of the grid, in a fixed order. */
export function gridOf(s: ScreenSetting): ScreenedRecipe[] {
  const inits = s.inits.length === 0 ? [null] : s.inits;
  return headsFor(s).flatMap((heads) => SCREEN_LRS.flatMap((lr) => inits.map((init) => ({ heads, lr, init }))));
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
    lr: r.lr,
    ...(r.heads === 0 ? {} : { heads: r.heads }),
    ...(r.init === null ? {} : { init: r.init }),
    ...common,
    steps: common.steps ?? s.steps,
    extendUpTo: 1, // a screen compares recipes on one budget
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

/**
 * The screen's winner: the converged run that converged first; if none converged, the highest accuracy at L
 * (ties: the smaller learning rate, then fewer heads). Null when no run finished without diverging.
 */
export function chooseRecipe(runs: readonly RunResult[]): RunResult | null {
  const ok = runs.filter((r) => r.status !== "diverged");
  if (ok.length === 0) return null;
  const converged = ok.filter((r) => r.convergedStep !== null);
  const score = (r: RunResult): number[] =>
    converged.length > 0
      ? [r.convergedStep ?? Infinity, r.config.lr, r.config.heads]
      : [-(accuracyAt(r, r.config.L) ?? 0), r.config.lr, r.config.heads];
  const pool = converged.length > 0 ? converged : ok;
  return [...pool].sort((a, b) => {
    const x = score(a), y = score(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  })[0];
}
