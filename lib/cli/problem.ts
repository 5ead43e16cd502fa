/**
 * What the three problem scripts share: their flags, quick mode, and running a sweep into `<out>/pN` with the
 * report rebuilt after every finished run.
 */
import { join } from "node:path";
import type { ExperimentConfig } from "../training/config.ts";
import { runSweep, SweepFailures, SweepInterrupted, type SweepJob } from "../runs/sweep.ts";
import { writeReports } from "../report/write.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

export const PROBLEM_FLAGS: readonly FlagSpec[] = [
  { name: "L", type: "int", choices: [32, 64], default: 64, help: "Training length L (evaluation runs to 3L)." },
  {
    name: "seeds",
    type: "int",
    min: 1,
    max: 20,
    default: 1,
    help: "Seeds per setting (several give mean and min-max bands).",
  },
  {
    name: "steps",
    type: "int",
    min: 1,
    max: 1_000_000,
    help: "Step cap for every run (default: per-model caps, see README).",
  },
  {
    name: "eval-samples",
    type: "int",
    min: 1,
    max: 100_000,
    default: 256,
    help: "Test sequences per evaluated length.",
  },
  {
    name: "out",
    type: "string",
    default: "reports",
    help: "Folder for results and reports (this problem writes <out>/pN).",
  },
  { name: "jobs", type: "int", min: 1, max: 64, default: 2, help: "Runs trained at once, one process each." },
  {
    name: "quick",
    type: "boolean",
    help: "Smoke run of the same pipeline (L=16, few steps, few samples) in well under a minute.",
  },
  { name: "fresh", type: "boolean", help: "Retrain runs that are already finished instead of skipping them." },
];

/** The shared settings a problem's job builder receives. */
export interface ProblemSettings {
  readonly L: number;
  readonly seeds: readonly number[];
  /** Step cap from --steps, or undefined for the problem's per-model caps. */
  readonly steps: number | undefined;
  readonly quick: boolean;
  /** Fields every run config takes from the flags (eval samples, and quick-mode sizes). */
  readonly common: Partial<ExperimentConfig>;
  readonly out: string;
  readonly jobs: number;
  readonly fresh: boolean;
}

/** Quick mode: the same pipeline on a small setting, for smoke tests. */
const QUICK: Partial<ExperimentConfig> = { evalSamples: 16, checkEvery: 10, testBatch: 64, batch: 32 };
const QUICK_L = 16;
const QUICK_STEPS = 30;

/** Parse the shared flags; null when --help was shown. */
export function problemSettings(argv: readonly string[], usage: string): ProblemSettings | null {
  const f = parseFlags(argv, PROBLEM_FLAGS, usage);
  if (!f) return null;
  const quick = f.quick === true;
  const seeds = Array.from({ length: f.seeds as number }, (_, i) => i);
  return {
    L: quick ? QUICK_L : f.L as number,
    seeds,
    steps: quick ? (f.steps as number | undefined) ?? QUICK_STEPS : f.steps as number | undefined,
    quick,
    common: quick ? { ...QUICK, evalSamples: Math.min(QUICK.evalSamples!, f["eval-samples"] as number) } : {
      evalSamples: f["eval-samples"] as number,
    },
    out: f.out as string,
    jobs: f.jobs as number,
    fresh: f.fresh === true,
  };
}

/** Run one problem script: parse flags, build jobs, run the sweep, write results and reports. */
export function runProblem(
  problem: "p1" | "p2" | "p3",
  usage: string,
  buildJobs: (s: ProblemSettings) => Promise<SweepJob[]> | SweepJob[],
): Promise<void> {
  return cliMain(async () => {
    const settings = problemSettings(Deno.args, usage);
    if (!settings) return;
    const jobs = await buildJobs(settings);
    const dir = join(settings.out, problem);
    const command = ["deno", "task", problem, ...Deno.args].join(" ");
    try {
      const results = await runSweep(jobs, {
        problem,
        dir,
        jobs: settings.jobs,
        fresh: settings.fresh,
        command,
        onUpdate: () => writeReports(settings.out),
      });
      console.error(`${problem}: ${results.runs.length}/${results.planned} runs; report: ${join(dir, "index.html")}`);
    } catch (e) {
      if (e instanceof SweepInterrupted) {
        console.error(`${problem}: ${e.message}`);
        Deno.exit(130);
      }
      if (e instanceof SweepFailures) {
        console.error(`${problem}: ${e.message}`);
        Deno.exit(1);
      }
      throw e;
    }
  });
}
