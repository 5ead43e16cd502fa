/**
 * The training protocol of revision 3: what every problem run shares, so models compared in one answer differ in
 * their architecture and nothing else.
 *
 * - Fixed budgets: every run trains its comparison's whole budget (lib/training/train.ts); one budget per
 *   comparison the assignment asks for. Chosen from the cost table `deno task plan` prints (README, "Protocol").
 * - One architecture per model: 2 heads for every attention layer at every M and tau (head size 4 at d = 8, so
 *   RoPE rotates two frequency pairs per head), PyTorch's default initialisation for every model
 *   (lib/models/model_table.ts), warm-up 100 steps, clip 1, batch 64.
 * - The learning rate alone is screened, per model and setting (each delay at its own delay), on one grid for
 *   every model: the same number of screen runs each, at half the setting's budget, one seed.
 * - Seeds: 5 for every d = 8 setting, 3 at d = 64.
 * - Collapse: a setting whose problem runs at the screened rate collapse (`collapsed`: learned, then lost) trains at
 *   the next rate its screen ranks, for every model alike; the collapsed runs stay on record (lib/recipes/chosen.ts,
 *   COLLAPSED, and the protocol study).
 */

/** The training length every problem trains at unless --L says otherwise (the assignment allows 32 or 64). */
export const PROTOCOL_L = 64;

/** The step budget of each comparison: every run in it trains exactly this many steps. */
export const BUDGETS = {
  /** Problem 1: the five models at tau = 1 and tau = 5, d = 8. */
  p1: 40_000,
  /** Problem 2's d = 8 runs (Mamba, RoPE, Hybrid at M = 4, 8, 16), which Problem 3 reuses as its d = 8 side. */
  p2: 40_000,
  /** Problem 2's capacity control: the RoPE Transformer at d = 64. */
  p2Control: 6_000,
  /** Problem 3's d = 64 Mamba runs (M = 4, 8, 16 at tau = 1, M = 16 at tau = 10). */
  p3: 16_000,
  /** The delay study at d = 8 (every model, M = 1) and its convolution-width comparison. */
  delay: 20_000,
  /** The delay study's multi-query Mamba (M = 4, d = 16). */
  delayWide: 16_000,
  /** The state-size study (Mamba, M = 8 and 16). */
  state: 20_000,
  /** The length study's factorial (Mamba and the Hybrid at M = 1: L 64 or 256, d 8 or 64). */
  length: 12_000,
  /** The Mamba paper's induction-heads row: 204,800 steps at batch 8 (Gu and Dao, appendix E.1). */
  paper: 204_800,
  /** The attention baselines beside it: what the cost table allows, not the paper's budget (their pages say so). */
  paperAttention: 20_000,
} as const;

/** The learning rates screened for every model and setting: logspace(-3, -2, 4), to three significant figures. */
export const SCREEN_LRS: readonly number[] = [1e-3, 2.15e-3, 4.64e-3, 1e-2];

/** The limits a screen grid must keep (checked where a grid is given on the command line). */
export const LR_RANGE = { min: 1e-5, max: 1 } as const;

/** A screen's budget as a share of its setting's budget. */
export const SCREEN_SHARE = 0.5;

/** Seeds per setting by width when --seeds is not given. */
export function defaultSeedCount(d: number): number {
  return d <= 8 ? 5 : 3;
}

/** The seeds a setting of width `d` trains: `requested` (--seeds) when given, else the protocol's default count. */
export function seedsFor(d: number, requested: readonly number[] | undefined): readonly number[] {
  return requested ?? Array.from({ length: defaultSeedCount(d) }, (_, i) => i);
}

/**
 * A run has collapsed when its last held-out check is more than this far below its best (0.2 = 20 points): it had
 * learned the task and lost it, which a fixed budget at a high constant rate can do long after a half-budget screen
 * ends (Problem 2's Hybrid at M = 8, lr 1e-2: 100% by step 4,700, then 4 of 5 seeds back to chance, loss ln 16, from
 * step 9,750-36,000).
 */
export const COLLAPSE_DROP = 0.2;

/** Whether `history` (the held-out checks, in order) ends more than COLLAPSE_DROP below its best. */
export function collapsed(history: readonly { readonly accuracy: number }[]): boolean {
  if (history.length === 0) return false;
  const best = Math.max(...history.map((h) => h.accuracy));
  return best - history[history.length - 1].accuracy > COLLAPSE_DROP;
}
