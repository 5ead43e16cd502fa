/**
 * Problem 2 (HW4): associative recall with M = 4, 8, 16 queries (M=16 is full AR), K=16, d=8, tau=1,
 * for Mamba, the RoPE Transformer and the Hybrid.
 */
import type { ModelName } from "../lib/training/config.ts";
import { runProblem } from "../lib/cli/problem.ts";
import { reuseFinishedRuns } from "../lib/runs/reuse.ts";
import type { SweepJob } from "../lib/runs/sweep.ts";

const USAGE = `deno task p2 [flags]

Problem 2: AR with M = 4, 8, 16 (K=16, d=8, tau=1) for Mamba, the RoPE Transformer and the Hybrid.
Writes <out>/p2/results.json and <out>/p2/index.html.`;

const MODELS: readonly ModelName[] = ["mamba", "tf-rope", "hybrid"];
const MS = [4, 8, 16];
/** Step cap for every P2 run (README, "Training recipes"): Mamba and the Hybrid were still climbing at 10000. */
const CAP = 20000;

await runProblem("p2", USAGE, async (s) => {
  const jobs: SweepJob[] = [];
  for (const M of MS) {
    for (const model of MODELS) {
      for (const seed of s.seeds) {
        jobs.push({
          variant: `M=${M}`,
          config: { model, K: 16, d: 8, M, L: s.L, tau: 1, seed, steps: s.steps ?? CAP, ...s.common },
        });
      }
    }
  }
  // Problem 3 trains the same d=8 Mamba runs; reuse them when it finished first.
  await reuseFinishedRuns(jobs, `${s.out}/p3`, `${s.out}/p2`);
  return jobs;
});
