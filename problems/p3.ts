/**
 * Problem 3 (HW4): Mamba with a wider embedding, K=16, d=64: M = 4, 8, 16 at tau=1 side by side with the
 * d=8 Mamba runs of Problem 2 (reused from <out>/p2 when finished there, else trained here), and M=16 at tau=10.
 */
import { runProblem } from "../lib/cli/problem.ts";
import { reuseFinishedRuns } from "../lib/runs/reuse.ts";
import type { SweepJob } from "../lib/runs/sweep.ts";

const USAGE = `deno task p3 [flags]

Problem 3: Mamba at d=64 (K=16) for M = 4, 8, 16 with tau=1, compared with d=8 (from Problem 2's results
when present), and M=16 with tau=10. Writes <out>/p3/results.json and <out>/p3/index.html.`;

const MS = [4, 8, 16];
/** Step caps (README, "Training recipes"): d=8 runs match Problem 2's cap so they are the same runs. */
const CAP_D8 = 20000;
/** d=64 steps cost ~8x d=8 ones; M=8 was still climbing at 4000. */
const CAP_D64 = 8000;
/**
 * M=16 at d=64 was near chance until ~5000 steps and then climbing (37% held-out at 7500, 45% at L after 8000):
 * it gets twice the cap, and so does M=16 with tau=10, to be compared with it on the same budget.
 */
const CAP_D64_M16 = 16000;

await runProblem("p3", USAGE, async (s) => {
  const jobs: SweepJob[] = [];
  for (const M of MS) {
    for (const d of [8, 64]) {
      for (const seed of s.seeds) {
        const steps = s.steps ?? (d === 8 ? CAP_D8 : M === 16 ? CAP_D64_M16 : CAP_D64);
        jobs.push({
          variant: `d=${d} M=${M}`,
          config: { model: "mamba", K: 16, d, M, L: s.L, tau: 1, seed, steps, ...s.common },
        });
      }
    }
  }
  for (const seed of s.seeds) {
    const steps = s.steps ?? CAP_D64_M16;
    jobs.push({
      variant: "d=64 M=16 tau=10",
      config: { model: "mamba", K: 16, d: 64, M: 16, L: s.L, tau: 10, seed, steps, ...s.common },
    });
  }
  await reuseFinishedRuns(jobs, `${s.out}/p2`, `${s.out}/p3`);
  return jobs;
});
