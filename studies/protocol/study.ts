/**
 * Why training revision 3's protocol is what it is, from the runs that show it.
 *
 * Fixed budgets: Problem 1's revision-2 Mamba runs stopped at the step
 * where they first held 99% on the held-out batch, and their length generalisation was read off that moment. Here
 * the same runs (same seed, recipe and batches) are trained twice at today's code: once to exactly the step where
 * revision 2 stopped, which reproduces the revision-2 result, and once on to 12,000 steps. One figure puts the two
 * side by side per seed.
 *
 * The collapse rule: the runs of every setting that collapsed at its screened rate (lib/recipes/chosen.ts, COLLAPSED),
 * with the problem's own seeds, budget and config, so the same keys: a sweep reuses them from the problem's folder.
 */
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { COLLAPSED, recipeRow } from "../../lib/recipes/chosen.ts";
import { PROTOCOL_L, SCREEN_SHARE, seedsFor } from "../../lib/recipes/protocol.ts";

/**
 * Revision 2's Problem 1 Mamba runs (reports/archive/rev2/p1/results.json): delay, seed and the step at which
 * training stopped (the third of three checks at >= 99%). Their recipe: lr 2.15e-3, PyTorch init, warm-up 100,
 * clip 1, batch 64, L = 64.
 */
export const STOPPED: readonly { tau: number; seed: number; stoppedAt: number }[] = [
  { tau: 1, seed: 0, stoppedAt: 3100 },
  { tau: 1, seed: 1, stoppedAt: 2250 },
  { tau: 1, seed: 2, stoppedAt: 1350 },
  { tau: 5, seed: 0, stoppedAt: 3700 },
  { tau: 5, seed: 1, stoppedAt: 6250 },
  { tau: 5, seed: 2, stoppedAt: 2300 },
];

/** How far the same runs train on. */
export const ON_TO = 12_000;

export const study: StudyDefinition = {
  id: "protocol",
  title: "Why fixed budgets: the same run stopped at 99% and trained on; runs that collapsed",
  summary:
    "The protocol comparison: Problem 1's revision-2 Mamba runs (tau = 1 and 5, seeds 0-2) trained to the step " +
    `where revision 2 stopped them and on to ${ON_TO} steps, same seed and batches; and the problem runs that ` +
    "collapsed at their screened rate (lib/recipes/chosen.ts, COLLAPSED).",
  order: 9,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const { tau, seed, stoppedAt } of STOPPED) {
      for (const steps of [stoppedAt, ON_TO]) {
        jobs.push({
          variant: `tau=${tau} seed=${seed} ${steps === ON_TO ? "on" : "stopped"}`,
          config: {
            model: "mamba",
            K: 16,
            d: 8,
            M: 1,
            L: s.quick ? s.L : 64,
            tau,
            seed,
            steps: s.quick ? Math.round(steps / 100) : steps,
            lr: 2.15e-3,
            init: "pytorch",
            evalSamples: 256,
            headlineSamples: 2048,
            ...s.common,
          },
        });
      }
    }
    for (const [id, lrs] of Object.entries(COLLAPSED)) {
      const { model, K, d, M, tau, steps } = recipeRow(id).setting;
      const budget = Math.round(steps / SCREEN_SHARE); // the screen ran SCREEN_SHARE of the problem's budget
      for (const lr of lrs) {
        for (const seed of seedsFor(d, undefined)) {
          jobs.push({
            variant: `${id} lr=${lr} collapsed`,
            config: {
              model,
              K,
              d,
              M,
              L: s.quick ? s.L : PROTOCOL_L,
              tau,
              seed,
              steps: s.quick ? Math.round(budget / 100) : budget,
              lr,
              ...s.common,
            },
          });
        }
      }
    }
    return jobs;
  },
};
