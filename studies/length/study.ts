/**
 * The length study: does Mamba extrapolate as the Mamba paper reports (trained on induction heads at length 256, 100%
 * out to 2^20 tokens), and what buys it? Every run is evaluated at the assignment's lengths and at every power of two
 * from 2^8 up to 2^14 tokens in the run itself (its `farLengths`); the runs' checkpoints (final, and at the moment
 * each first held 99%) carry the rest to 2^20 with the streaming evaluator (lib/training/evaluate_long.ts).
 *
 * - The factorial, M = 1, tau = 1: Mamba and the Hybrid x training length 64 or 256 x d = 8 or 64, each trained a
 *   fixed 12,000 steps; "stopped at 99%" is the same run's checkpoint at convergence (no second run). Batch 64 x 64 / L
 *   sequences, so every step sees 4,096 tokens whatever L. 5 seeds at d = 8, 3 at d = 64 (the protocol's rule).
 * - The paper's row: Mamba, d = 64, K = 16, L = 256, batch 8, fresh data every step, Adam at lr 1e-3, 204,800 steps,
 *   one seed; learned-PE and RoPE attention beside it at lr 2e-4 but 20,000 steps (what the cost table allows).
 */
import type { ExperimentConfig, ModelName } from "../../lib/training/config.ts";
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { BUDGETS, seedsFor } from "../../lib/recipes/protocol.ts";

/** Multiples of L evaluated in the run: every power of two of tokens from 4L to 2^14. */
export function powerLengths(L: number): number[] {
  const out: number[] = [];
  for (let n = 4 * L; n <= 2 ** 14; n *= 2) out.push(n / L);
  return out;
}

/** The paper's induction-heads numbers (Table 11: trained at 256), at 2x, 4x, ... its training length. */
export const PAPER: Readonly<Record<string, Readonly<Record<number, number>>>> = {
  "Mamba": { 2: 1, 4: 1, 16: 1, 64: 1, 256: 1, 4096: 1 },
  "MHA-RoPE": { 2: 0.836, 4: 0.313 },
  "MHA-Abs": { 2: 0.586 },
};

function factorial(model: ModelName, L: number, d: number, seed: number): ExperimentConfig {
  return {
    model,
    K: 16,
    d,
    M: 1,
    L,
    tau: 1,
    seed,
    batch: (64 * 64) / L,
    steps: BUDGETS.length,
    lr: model === "mamba" ? 2.15e-3 : 1e-2,
    farLengths: powerLengths(L),
  };
}

function paperRow(model: ModelName, seed: number): ExperimentConfig {
  const attention = model !== "mamba";
  return {
    model,
    K: 16,
    d: 64,
    M: 1,
    L: 256,
    tau: 1,
    seed,
    batch: 8,
    steps: attention ? BUDGETS.paperAttention : BUDGETS.paper,
    lr: attention ? 2e-4 : 1e-3,
    farLengths: powerLengths(256),
  };
}

export const study: StudyDefinition = {
  id: "length",
  title: "The length study — the Mamba paper's induction-heads table, to a million tokens",
  summary: "Length generalisation: Mamba and the Hybrid trained at L 64 or 256, d 8 or 64 (fixed 12,000 steps; the " +
    "checkpoint at 99% beside the final one), and the Mamba paper's row (d 64, L 256, batch 8, 204,800 steps) with " +
    "attention baselines, evaluated at powers of two to 2^14 in the run.",
  order: 22,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const model of ["mamba", "hybrid"] as const) {
      for (const L of [64, 256]) {
        for (const d of [8, 64]) {
          for (const seed of seedsFor(d, s.seeds)) {
            const c = factorial(model, s.quick ? L / 8 : L, d, seed); // quick: 8 and 32, still two lengths
            jobs.push({
              variant: `L=${L} d=${d}`,
              config: { ...c, ...s.common, farLengths: s.quick ? [4] : c.farLengths, steps: s.steps ?? c.steps },
            });
          }
        }
      }
    }
    for (const model of ["mamba", "tf-rope", "tf-learned"] as const) {
      const c = paperRow(model, 0);
      jobs.push({
        variant: "paper",
        config: {
          ...c,
          ...s.common,
          ...(s.quick ? { L: 16, farLengths: [4] } : {}),
          steps: s.steps ?? c.steps,
        },
      });
    }
    return jobs;
  },
};
