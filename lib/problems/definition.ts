/**
 * What a problem is: one module in problems/ exporting `problem: ProblemDefinition`. The registry
 * (lib/problems/registry.ts) finds every such module; results validation, the index page, report rebuilding,
 * the summary tables and the output folders (`<out>/<id>`) all iterate over it, so nothing else names a problem.
 */
import type { ExperimentConfig } from "../training/config.ts";
import type { SweepJob } from "../store/job.ts";
import type { ProblemResults } from "../store/results.ts";
import type { ProblemView } from "../site/view.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import type { LongEval, WhichWeights } from "../probes/long_file.ts";
import type { AuthoredAnswers } from "../site/answers_document.ts";

/** The settings every problem's job builder receives, from the shared problem flags. */
export interface ProblemSettings {
  readonly L: number;
  /** Seeds from --seeds, or undefined for the protocol's default per width (lib/recipes/protocol.ts). */
  readonly seeds: readonly number[] | undefined;
  /** Step budget from --steps, or undefined for the problem's own budgets. */
  readonly steps: number | undefined;
  /** The screens' learning-rate grid from --lrs, or undefined for the protocol's. */
  readonly lrs: readonly number[] | undefined;
  readonly quick: boolean;
  /** Fields every run config takes from the flags (eval samples, and quick-mode sizes). */
  readonly common: Partial<ExperimentConfig>;
}

/** What a problem's report view may read besides its own results: the other problems' results, its probes. */
export interface ViewContext {
  /** Results of every problem found in the same reports folder, by id. */
  readonly results: ReadonlyMap<string, ProblemResults>;
  /** The probe results of this problem's runs, by run key (absent or empty when none were computed). */
  readonly probes?: ReadonlyMap<string, ProbeResult>;
  /** Accuracy beyond the runs' own lengths (`deno task long-eval`), by run key: final and converged weights. */
  readonly long?: ReadonlyMap<string, Partial<Record<WhichWeights, LongEval>>>;
}

export interface ProblemDefinition {
  /** Folder name under --out and deno task name, e.g. "p1"; must equal the module's file name. */
  readonly id: string;
  /** Full title, on the index page and as the report's heading. */
  readonly title: string;
  /** What the command does, for --help. */
  readonly summary: string;
  /** Position on the index page (ascending). */
  readonly order: number;
  /**
   * The homework whose PDF report includes this problem (`deno task pdf` writes `<out>/hw<N>.pdf` for every
   * number some problem names, its problems in index order); absent: the problem is in no PDF.
   */
  readonly homework?: number;
  /** Seeds per setting when --seeds is not given (default: the runner's, 3); a recipe screen uses 1. */
  readonly defaultSeeds?: number;
  /** The runs for these settings, in the sweep's fixed order. */
  jobs(settings: ProblemSettings): readonly SweepJob[];
  /**
   * The authored answers (Markdown beside the problem, numbers and checks filled from the results), shown first on
   * the page and in the homework PDF; the view's parts follow as the appendix.
   */
  readonly answers?: AuthoredAnswers;
  /** The report: how to read it, parts (charts and findings) and a one-sentence headline. */
  view(results: ProblemResults, context: ViewContext): ProblemView;
}
