/** What a sweep trains: a list of jobs, each one run's config with the label its study's report groups it by. */
import type { ExperimentConfig } from "../training/config.ts";

/** One run of a sweep: a label for the report ("tau=5") and the config to train. */
export interface SweepJob {
  readonly variant: string;
  readonly config: ExperimentConfig;
}
