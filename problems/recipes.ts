/**
 * Recipe evidence for Problem 1: the NoPE Transformer under several heads x learning rates at the Problem 1
 * setting (K=16, d=8, M=1, tau=1), one run each by default. Runs through the same sweep engine as the problems
 * (<out>/recipes/runs/<key>.json, resumable, claimed); the Problem 1 report shows the table too.
 */
import type { ProblemDefinition, SweepJob } from "../lib/problems/definition.ts";
import { recipeSentence, recipesPart } from "../lib/report/recipes.ts";

const HEADS = [4, 2, 1];
const LRS = [1e-2, 3e-3];
/** Step cap per recipe (a screen: Problem 1 itself gives the Transformers 20000). */
const CAP = 6000;

export const problem: ProblemDefinition = {
  id: "recipes",
  title: "Training recipes — the NoPE Transformer under heads × learning rate",
  summary: "The NoPE Transformer at the Problem 1 setting (tau=1) under heads 4, 2, 1 x learning rates 1e-2, " +
    "3e-3, one run each per seed; shown on its own page and on the Problem 1 report.",
  order: 10,
  jobs(s) {
    const jobs: SweepJob[] = [];
    for (const heads of HEADS) {
      for (const lr of LRS) {
        for (const seed of s.seeds) {
          jobs.push({
            variant: `heads=${heads} lr=${lr}`,
            config: {
              model: "tf-nope",
              K: 16,
              d: 8,
              M: 1,
              L: s.L,
              tau: 1,
              seed,
              heads,
              lr,
              steps: s.steps ?? CAP,
              ...s.common,
            },
          });
        }
      }
    }
    return jobs;
  },
  view(results) {
    return {
      howToRead: "Each row is one training run of the NoPE Transformer at the Problem 1 setting (K = 16, d = 8, " +
        "M = 1, τ = 1) with the recipe in its columns; the accuracy at L is on fresh test sequences. The sweep " +
        "asks whether NoPE's slow learning is a matter of recipe.",
      parts: results.runs.length === 0 ? [] : [recipesPart(results.runs)],
      headline: results.runs.length === 0
        ? `No finished runs yet (0 of ${results.planned} planned).`
        : recipeSentence(results.runs),
    };
  },
};
