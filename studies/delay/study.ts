/**
 * The delay study: does a delay become hard where it leaves the reach of the convolutions? A two-layer Mamba sees
 * 2 (w - 1) = 6 tokens back through its stacked width-4 causal convolutions, so a value tau <= 6 after the query can
 * be fetched by convolution alone, and beyond that it must be carried in the scan's state; the Hybrid has one
 * convolution (reach 3) before its attention. Accuracy against tau, with the wrong-answer offsets probe telling
 * "found the query, misjudged the delay" from "did not find it".
 *
 * Every run trains a fixed budget (training revision 3's protocol); the learning rate is the one Problem 1's screens
 * chose for the model at tau = 1 (tau = 1) or tau = 5 (longer delays), and Problem 3's for the wider Mamba.
 */
import type { ExperimentConfig, ModelName } from "../../lib/training/config.ts";
import type { StudyDefinition } from "../definition.ts";
import type { SweepJob } from "../../lib/store/job.ts";
import { recipeFor } from "../../lib/recipes/chosen.ts";
import { BUDGETS } from "../../lib/recipes/protocol.ts";

/** Delays for every model at M = 1, d = 8. */
export const DELAYS = [1, 3, 5, 6, 7, 8, 10, 12];
/** Delays for the multi-query Mamba (M = 4, d = 16). */
export const WIDE_DELAYS = [1, 5, 6, 7, 10];
const MODELS: readonly ModelName[] = ["mamba", "hybrid", "tf-rope", "tf-nope"];
const SEEDS = 3;

function p1Recipe(model: ModelName, tau: number): Partial<ExperimentConfig> {
  return recipeFor(`p1-${model}-tau${tau === 1 ? 1 : 5}`);
}

export const study: StudyDefinition = {
  id: "delay",
  title: "The delay study — learnability against the convolutions' reach",
  summary: `Delay against reach: Mamba, the Hybrid, RoPE and NoPE at M = 1, d = 8, tau in ${DELAYS.join(", ")}; ` +
    `Mamba at M = 4, d = 16, tau in ${WIDE_DELAYS.join(", ")}; Mamba with convolution width 12 against 4 at tau = 10.`,
  order: 20,
  jobs(s) {
    const seeds = s.seeds ?? Array.from({ length: SEEDS }, (_, i) => i);
    const jobs: SweepJob[] = [];
    const add = (variant: string, config: Omit<ExperimentConfig, "seed" | "L">) => {
      for (const seed of seeds) jobs.push({ variant, config: { ...config, L: s.L, seed, ...s.common } });
    };
    for (const tau of DELAYS) {
      for (const model of MODELS) {
        add(`tau=${tau}`, { model, K: 16, d: 8, M: 1, tau, steps: s.steps ?? BUDGETS.delay, ...p1Recipe(model, tau) });
      }
    }
    add("tau=10 conv=12", {
      model: "mamba",
      K: 16,
      d: 8,
      M: 1,
      tau: 10,
      convWidth: 12,
      steps: s.steps ?? BUDGETS.delay,
      ...p1Recipe("mamba", 10),
    });
    for (const tau of WIDE_DELAYS) {
      add(`M=4 d=16 tau=${tau}`, {
        model: "mamba",
        K: 16,
        d: 16,
        M: 4,
        tau,
        steps: s.steps ?? BUDGETS.delayWide,
        ...recipeFor("p3-mamba-d64-M4"),
      });
    }
    return jobs;
  },
};
