/**
 * What a study is: a folder `studies/<id>/` whose `study.ts` exports `study: StudyDefinition`, the experiment's every
 * value (its runs), beside the answers written for it (`answers.md`, optional). The registry (studies/registry.ts)
 * finds the folders; the sweep trains a study's jobs and writes results; the site (lib/site/) draws its page from
 * the results, with the study's page module `lib/site/pages/<id>.ts` when it has one.
 */
import type { ExperimentConfig } from "../lib/training/config.ts";
import type { SweepJob } from "../lib/store/job.ts";

/** The settings every study's job builder receives, from the shared problem flags. */
export interface ProblemSettings {
  readonly L: number;
  /** Seeds from --seeds, or undefined for the protocol's default per width (lib/recipes/protocol.ts). */
  readonly seeds: readonly number[] | undefined;
  /** Step budget from --steps, or undefined for the study's own budgets. */
  readonly steps: number | undefined;
  /** The screens' learning-rate grid from --lrs, or undefined for the protocol's. */
  readonly lrs: readonly number[] | undefined;
  readonly quick: boolean;
  /** Fields every run config takes from the flags (eval samples, overrides, and quick-mode sizes). */
  readonly common: Partial<ExperimentConfig>;
}

export interface StudyDefinition {
  /** Folder name under studies/ and under --out, and the deno task's name, e.g. "p1". */
  readonly id: string;
  /** Full title, on the index page and as the report's heading. */
  readonly title: string;
  /** What the command does, for --help. */
  readonly summary: string;
  /** Position on the index page (ascending). */
  readonly order: number;
  /**
   * The homework whose PDF includes this study (`deno task pdf` writes `<out>/hw<N>.pdf` for every number some study
   * names, its studies in index order); absent: the study is in no PDF.
   */
  readonly homework?: number;
  /** Seeds per setting when --seeds is not given (default: the protocol's per width); a recipe screen uses 1. */
  readonly defaultSeeds?: number;
  /** The runs for these settings, in the sweep's fixed order. */
  jobs(settings: ProblemSettings): readonly SweepJob[];
}
