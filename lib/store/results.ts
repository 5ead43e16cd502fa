/**
 * The results schema (versioned) shared by experiments, problem scripts and reports, and its validation.
 *
 * A `RunResult` is one training run (one model, one setting, one seed). A `ProblemResults` file
 * (`reports/pN/results.json`) holds every run of one problem's sweep in a fixed order. Reports read only
 * these files, so a report can always be rebuilt without retraining.
 */
import type { BackendInfo } from "../platform/backend.ts";
import type { Versions } from "../platform/version.ts";
import {
  type HistoryPoint,
  type LengthAccuracy,
  RUN_VERDICTS,
  type RunStatus,
  type RunVerdict,
} from "../training/record.ts";
import { ConfigError, type ExperimentConfig, resolve, type RunSettings } from "../training/config.ts";

/**
 * 2: `config` holds the run's settings only (no derived values), `revision` the training revision its key
 * includes, `problem` any registered problem id.
 * 3: `verdict` (how training ended, in words a report may use) and `baseSteps` beside `status`; the settings
 * `extendUpTo` (gone at training revision 3, which adds `farLengths`) and `headlineSamples`; every length's
 * accuracy with its `samples`. Every committed file is at schema 3.
 */
export const SCHEMA_VERSION = 3;

export interface RunResult {
  readonly schema: typeof SCHEMA_VERSION;
  /** Hash of the settings and the training revision (lib/store/run_key.ts): the run's identity. */
  readonly key: string;
  /** The training revision (lib/training/revision.ts) the run was trained under. */
  readonly revision: number;
  /** A label for the variant inside its sweep, e.g. "tau=1" or "M=8". */
  readonly variant: string;
  /** The user-facing config with every default filled in; `resolve(config)` gives the derived values. */
  readonly config: RunSettings;
  readonly status: RunStatus;
  readonly verdict: RunVerdict;
  /** The step budget (`config.steps`); revision 2's runs could exceed it when extended (`stepsRun`). */
  readonly baseSteps: number;
  /** First step of the run of `patience` passing checks that ended training, or null. */
  readonly convergedStep: number | null;
  readonly divergedStep: number | null;
  readonly stepsRun: number;
  readonly paramCount: number;
  readonly history: readonly HistoryPoint[];
  /** Accuracy at every length tau+2 .. 3L, then at `config.farLengths` x L (empty when diverged). */
  readonly accuracyByLength: readonly LengthAccuracy[];
  readonly timing: {
    readonly trainSeconds: number;
    readonly evalSeconds: number;
    readonly medianStepMs: number;
    /** Peak resident memory (MB) of the process that ran it, at the run's end; absent in older files. */
    readonly peakRssMb?: number;
  };
  readonly versions: Versions;
  readonly backend: BackendInfo;
  readonly startedAt: string;
}

export interface ProblemResults {
  readonly schema: typeof SCHEMA_VERSION;
  /** The id of the problem (studies/<id>/study.ts) whose sweep wrote it. */
  readonly problem: string;
  /** The command line that produced this file. */
  readonly command: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly cores: number;
  readonly versions: Versions;
  /** Runs the sweep planned; `runs` holds those that finished (fewer after an interruption). */
  readonly planned: number;
  readonly runs: readonly RunResult[];
  /**
   * The planned runs not finished when the file was written (still training, in another shard, or interrupted),
   * in plan order; absent when every planned run is in `runs`. `runs` and `pending` together are the plan.
   */
  readonly pending?: readonly PendingRun[];
}

/** A planned run that has no run file yet. */
export interface PendingRun {
  /** Its position in the sweep's plan (0-based). */
  readonly index: number;
  readonly key: string;
  readonly model: string;
  readonly variant: string;
  readonly seed: number;
}

/** Keys of a RunResult's timing and date fields: everything else is reproducible from the command and seed. */
export const TIMING_FIELDS = [
  "timing",
  "startedAt",
  "finishedAt",
  "wallSeconds",
] as const;

function fail(where: string, what: string): never {
  throw new Error(`invalid results: ${where}: ${what}`);
}

function checkNumber(where: string, v: unknown): void {
  if (typeof v !== "number") fail(where, `expected a number, got ${typeof v}`);
}

/** Validate a parsed RunResult: throws with the first problem found. */
export function checkRunResult(
  r: unknown,
  where = "run",
): asserts r is RunResult {
  if (typeof r !== "object" || r === null) fail(where, "not an object");
  const o = r as Record<string, unknown>;
  if (o.schema !== SCHEMA_VERSION) {
    fail(where, `schema ${String(o.schema)} != ${SCHEMA_VERSION}`);
  }
  if (typeof o.key !== "string" || o.key.length === 0) {
    fail(where, "missing key");
  }
  checkNumber(`${where}.revision`, o.revision);
  if (typeof o.variant !== "string") fail(where, "missing variant");
  if (typeof o.config !== "object" || o.config === null) {
    fail(where, "missing config");
  }
  try {
    resolve(o.config as ExperimentConfig);
  } catch (e) {
    // A bad value in a file is the file's fault, not a command-line flag's: name the setting, not "--flag".
    if (!(e instanceof ConfigError)) throw e;
    fail(where, `its config is not valid: setting ${e.message.replace(/^--/, "")}`);
  }
  if (!["converged", "cap", "diverged"].includes(o.status as string)) {
    fail(where, `bad status ${String(o.status)}`);
  }
  if (!(RUN_VERDICTS as readonly string[]).includes(o.verdict as string)) {
    fail(where, `bad verdict ${String(o.verdict)}`);
  }
  checkNumber(`${where}.baseSteps`, o.baseSteps);
  checkNumber(`${where}.stepsRun`, o.stepsRun);
  checkNumber(`${where}.paramCount`, o.paramCount);
  if (!Array.isArray(o.history)) fail(where, "history is not an array");
  for (const [i, p] of (o.history as unknown[]).entries()) {
    const h = p as Record<string, unknown>;
    checkNumber(`${where}.history[${i}].step`, h.step);
    checkNumber(`${where}.history[${i}].accuracy`, h.accuracy);
  }
  if (!Array.isArray(o.accuracyByLength)) {
    fail(where, "accuracyByLength is not an array");
  }
  for (const [i, p] of (o.accuracyByLength as unknown[]).entries()) {
    const a = p as Record<string, unknown>;
    checkNumber(`${where}.accuracyByLength[${i}].length`, a.length);
    checkNumber(`${where}.accuracyByLength[${i}].accuracy`, a.accuracy);
    checkNumber(`${where}.accuracyByLength[${i}].samples`, a.samples);
    if (!Number.isFinite(a.accuracy as number)) {
      fail(`${where}.accuracyByLength[${i}]`, "accuracy is not finite");
    }
  }
  if (o.status !== "diverged") {
    const cfg = o.config as Record<string, unknown>;
    const far = Array.isArray(cfg.farLengths) ? cfg.farLengths.length : 0;
    const expected = 3 * (cfg.L as number) - (cfg.tau as number) - 1 + far;
    if ((o.accuracyByLength as unknown[]).length !== expected) {
      fail(
        where,
        `accuracyByLength has ${(o.accuracyByLength as unknown[]).length} lengths, expected ${expected}`,
      );
    }
  }
}

/** Validate a parsed ProblemResults file. */
export function checkProblemResults(r: unknown): asserts r is ProblemResults {
  if (typeof r !== "object" || r === null) fail("results", "not an object");
  const o = r as Record<string, unknown>;
  if (o.schema !== SCHEMA_VERSION) {
    fail("results", `schema ${String(o.schema)} != ${SCHEMA_VERSION}`);
  }
  if (typeof o.problem !== "string" || o.problem.length === 0) fail("results", "missing problem id");
  if (typeof o.command !== "string") fail("results", "missing command");
  checkNumber("results.planned", o.planned);
  if (!Array.isArray(o.runs)) fail("results", "runs is not an array");
  for (const [i, run] of (o.runs as unknown[]).entries()) {
    checkRunResult(run, `runs[${i}]`);
  }
  if (o.pending !== undefined) {
    if (!Array.isArray(o.pending)) fail("results", "pending is not an array");
    for (const [i, p] of (o.pending as unknown[]).entries()) {
      const q = p as Record<string, unknown>;
      checkNumber(`results.pending[${i}].index`, q?.index);
      if (typeof q.key !== "string") fail(`results.pending[${i}]`, "missing key");
    }
    if ((o.runs as unknown[]).length + (o.pending as unknown[]).length !== o.planned) {
      fail(
        "results",
        `${(o.runs as unknown[]).length} runs and ${(o.pending as unknown[]).length} pending, not ${o.planned} planned`,
      );
    }
  }
}

/** The run's accuracy and sample count at exactly `length`, or null when that length was not evaluated. */
export function lengthPointAt(run: Pick<RunResult, "accuracyByLength">, length: number): LengthAccuracy | null {
  return run.accuracyByLength.find((a) => a.length === length) ?? null;
}

/** The run's accuracy at exactly `length`, or null when that length was not evaluated (or the run diverged). */
export function accuracyAt(run: Pick<RunResult, "accuracyByLength">, length: number): number | null {
  return lengthPointAt(run, length)?.accuracy ?? null;
}
