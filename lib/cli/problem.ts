/**
 * The problem runner: `deno run -A lib/cli/problem.ts <id> [flags]` (what `deno task <id>` runs) finds the
 * problem in the registry, parses the shared flags, runs its sweep into `<out>/<id>` and rebuilds the reports
 * after every finished run. With `--shard i/N` it trains only shard i of the cost-balanced partition
 * (lib/store/shard.ts) into the shared folder; the other shards train the rest.
 */
import { join } from "node:path";
import { type ExperimentConfig, INIT_CHOICES, type InitScheme, resolve } from "../training/config.ts";
import { hoursText, runSweep, SweepCannotWrite, SweepFailures, SweepInterrupted } from "../store/sweep.ts";
import { rebuildResults } from "../store/results_file.ts";
import type { ProblemResults, RunResult } from "../store/results.ts";
import { writeReports } from "../site/write.ts";
import { cliMain, farLengthsFlag, type FlagSpec, type FlagValue, parseFlags, UsageError } from "./flags.ts";
import { MAX_SHARDS, parseShard, type Shard, shardsOfPlan, shardText } from "../store/shard.ts";
import { runKey } from "../store/run_key.ts";
import { ProgressBoard } from "./progress.ts";
import { loadProblems } from "../site/pages.ts";
import { LR_RANGE, PROTOCOL_L } from "../recipes/protocol.ts";
import { takeUnscreened } from "../recipes/chosen.ts";
import type { ProblemDefinition } from "../site/pages.ts";
import type { ProblemSettings } from "../../studies/definition.ts";
import type { SweepJob } from "../store/job.ts";

export const PROBLEM_FLAGS: readonly FlagSpec[] = [
  {
    name: "L",
    type: "int",
    choices: [32, 64],
    default: PROTOCOL_L,
    help: "Training length L (evaluation runs to 3L).",
  },
  {
    name: "seeds",
    type: "int",
    min: 1,
    max: 20,
    help: "Seeds per setting (default: 5 at d = 8, 3 at d = 64; findings claim an order only when every seed agrees).",
  },
  {
    name: "lr",
    type: "number",
    min: 1e-5,
    max: 1,
    help: "Override: this learning rate for every run instead of the screened ones (recorded in each run's key).",
  },
  {
    name: "heads",
    type: "int",
    min: 1,
    max: 64,
    help: "Override: attention heads for every attention model (must divide d; recorded in each run's key).",
  },
  {
    name: "init",
    type: "string",
    choices: INIT_CHOICES,
    help: "Override: the initialisation of every run (recorded in each run's key).",
  },
  {
    name: "config",
    type: "string",
    help: "Override from a JSON file: any run settings (lr, heads, init, warmup, clip, batch, ...) for every run.",
  },
  {
    name: "lrs",
    type: "string",
    help: "The screens' learning-rate grid, comma-separated (default 0.001,0.00215,0.00464,0.01; recipes only).",
  },
  {
    name: "steps",
    type: "int",
    min: 1,
    max: 1_000_000,
    help: 'Step budget of every run (default: each comparison\'s budget, README "Protocol").',
  },
  { name: "budget", type: "int", min: 1, max: 1_000_000, help: "The same as --steps (give one of them)." },
  {
    name: "eval-samples",
    type: "int",
    min: 1,
    max: 100_000,
    default: 256,
    help: "Test sequences per evaluated length (other than L, 2L and 3L).",
  },
  {
    name: "headline-samples",
    type: "int",
    min: 1,
    max: 1_000_000,
    default: 2048,
    help: "Test sequences at exactly L, 2L and 3L (the lengths headlines and tables quote).",
  },
  {
    name: "far-lengths",
    type: "string",
    help: 'Lengths beyond 3L to evaluate too, as multiples of L, comma-separated (default 4,8,16; "none": none).',
  },
  {
    name: "out",
    type: "dir",
    default: "reports",
    help: "Folder for results and reports (this problem writes <out>/<problem id>).",
  },
  { name: "jobs", type: "int", min: 1, max: 64, default: 2, help: "Runs trained at once, one process each." },
  {
    name: "quick",
    type: "boolean",
    help: "Smoke run of the same pipeline (L=16, few steps, few samples, one seed unless --seeds) in under a minute.",
  },
  { name: "fresh", type: "boolean", help: "Retrain runs that are already finished instead of skipping them." },
  {
    name: "snapshot-every",
    type: "int",
    min: 0,
    max: 3600,
    default: 60,
    help: "Seconds between snapshots of each run in progress, from which a run stopped part-way resumes (0: at " +
      "every held-out check). Changes no result.",
  },
  {
    name: "only",
    type: "string",
    help: "Train only the runs whose variant label starts with this text (the rest are kept if finished, else left).",
  },
  {
    name: "shard",
    type: "string",
    help: "Train only shard i of N (i/N, 0 <= i < N): a deterministic part of the planned runs balanced by " +
      "expected cost; N shards writing into one shared --out train the whole sweep and merge into one results.json.",
  },
];

/**
 * Quick mode: the same pipeline on a small setting, in about a minute, on real learning: at L = 16, lr 1e-2 and a
 * 20-step warm-up, Mamba and the Hybrid converge on induction heads within 600 steps (measured: 240 and 400 steps).
 * The learning rate is quick mode's own, not the screened one (a screen's grid keeps its rates).
 */
const QUICK: Partial<ExperimentConfig> = {
  evalSamples: 16,
  headlineSamples: 64,
  checkEvery: 20,
  testBatch: 64,
  batch: 32,
  farLengths: [4],
  lr: 1e-2,
  warmup: 20,
};
const QUICK_L = 16;
const QUICK_STEPS = 600;

/** The shared settings plus where and how to run them. */
export interface ProblemFlags extends ProblemSettings {
  readonly out: string;
  readonly jobs: number;
  readonly fresh: boolean;
  /** Seconds between snapshots of a run in progress (--snapshot-every). */
  readonly snapshotSeconds: number;
  /** Variant-label prefix of the runs to train (--only), or null for all. */
  readonly only: string | null;
  /** The part of the plan to train (--shard), or null for all of it. */
  readonly shard: Shard | null;
}

/** Settings a --config file may override for every run (the task, the seed and the budget have flags of their own). */
const CONFIG_FIELDS = ["lr", "heads", "init", "warmup", "clip", "batch", "stateSize", "expand", "convWidth"] as const;

/** The --config file's settings, checked: a JSON object of CONFIG_FIELDS; one line naming the file otherwise. */
function configFile(raw: FlagValue): Partial<ExperimentConfig> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(Deno.readTextFileSync(String(raw)));
  } catch (e) {
    throw new UsageError(`--config ${raw}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(`--config ${raw}: must hold a JSON object of run settings`);
  }
  const unknown = Object.keys(value).find((k) => !(CONFIG_FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw new UsageError(
      `--config ${raw}: "${unknown}" is not a setting it may override (${CONFIG_FIELDS.join(", ")})`,
    );
  }
  return value as Partial<ExperimentConfig>;
}

/** The --lrs value: learning rates in LR_RANGE, increasing; undefined when not given. */
export function lrsFlag(raw: FlagValue): number[] | undefined {
  if (raw === undefined) return undefined;
  const lrs = String(raw).split(",").map((p) => Number(p.trim()));
  const ok = lrs.length > 0 &&
    lrs.every((lr, i) =>
      Number.isFinite(lr) && lr >= LR_RANGE.min && lr <= LR_RANGE.max && (i === 0 || lr > lrs[i - 1])
    );
  if (!ok) {
    throw new UsageError(
      `--lrs must be increasing learning rates in [${LR_RANGE.min}, ${LR_RANGE.max}], comma-separated, got "${raw}"`,
    );
  }
  return lrs;
}

/** The --shard value, checked: a UsageError in one line for anything but i/N with 0 <= i < N. */
export function shardFlag(raw: FlagValue, flag = "shard"): Shard | null {
  if (raw === undefined) return null;
  const shard = parseShard(String(raw));
  if (shard === null) {
    throw new UsageError(
      `--${flag} must be i/N with integers 0 <= i < N <= ${MAX_SHARDS} (e.g. 0/3 ... 2/3), got "${raw}"`,
    );
  }
  return shard;
}

/** Parse the shared flags; null when --help was shown. */
export function problemSettings(argv: readonly string[], usage: string, defaultSeeds?: number): ProblemFlags | null {
  return parseProblemFlags(argv, usage, defaultSeeds)?.settings ?? null;
}

/**
 * Parse the shared flags plus a script's own `extra` ones (their values in `values`); null when --help was
 * shown.
 */
export function parseProblemFlags(
  argv: readonly string[],
  usage: string,
  defaultSeeds?: number,
  extra: readonly FlagSpec[] = [],
): { readonly settings: ProblemFlags; readonly values: Record<string, FlagValue> } | null {
  const f = parseFlags(argv, [...PROBLEM_FLAGS, ...extra], usage);
  if (!f) return null;
  const shard = shardFlag(f.shard);
  const quick = f.quick === true;
  // Quick mode is a smoke run: one seed unless --seeds is given.
  const seedsGiven = argv.some((a) => a === "--seeds" || a.startsWith("--seeds="));
  const count = seedsGiven ? f.seeds as number : quick ? 1 : defaultSeeds;
  const seeds = count === undefined ? undefined : Array.from({ length: count }, (_, i) => i);
  if (f.steps !== undefined && f.budget !== undefined) {
    throw new UsageError("--budget and --steps are the same setting: give one of them");
  }
  const budget = (f.steps ?? f.budget) as number | undefined;
  const overrides = {
    ...configFile(f.config),
    ...(f.lr === undefined ? {} : { lr: f.lr as number }),
    ...(f.heads === undefined ? {} : { heads: f.heads as number }),
    ...(f.init === undefined ? {} : { init: f.init as InitScheme }),
  };
  const settings: ProblemFlags = {
    L: quick ? QUICK_L : f.L as number,
    seeds,
    lrs: lrsFlag(f.lrs),
    steps: quick ? budget ?? QUICK_STEPS : budget,
    quick,
    common: quick
      ? {
        ...QUICK,
        evalSamples: Math.min(QUICK.evalSamples!, f["eval-samples"] as number),
        headlineSamples: Math.min(QUICK.headlineSamples!, f["headline-samples"] as number),
        farLengths: farLengthsFlag(f["far-lengths"]) ?? QUICK.farLengths,
        ...overrides,
      }
      : {
        evalSamples: f["eval-samples"] as number,
        headlineSamples: f["headline-samples"] as number,
        ...(f["far-lengths"] === undefined ? {} : { farLengths: farLengthsFlag(f["far-lengths"]) }),
        ...overrides,
      },
    out: f.out as string,
    jobs: f.jobs as number,
    fresh: f.fresh === true,
    snapshotSeconds: f["snapshot-every"] as number,
    only: (f.only as string | undefined) ?? null,
    shard,
  };
  return { settings, values: f };
}

/** What a problem command plans: its jobs, their keys, and which of them it trains (--only, --shard). */
export interface ProblemPlan {
  readonly jobs: readonly SweepJob[];
  readonly keys: readonly string[];
  /** Whether --only admits the job (every job without --only). */
  readonly eligible: readonly boolean[];
  /** Whether this command trains the job: eligible and in its shard. */
  readonly selected: readonly boolean[];
}

/** The plan of `problem` under `settings`; a UsageError when --only matches nothing. */
export async function problemPlan(problem: ProblemDefinition, settings: ProblemFlags): Promise<ProblemPlan> {
  const jobs = problem.jobs(settings);
  const only = settings.only;
  if (only !== null && !jobs.some((j) => j.variant.startsWith(only))) {
    throw new UsageError(`--only "${only}" matches no run of ${problem.id} (labels look like "${jobs[0]?.variant}")`);
  }
  jobs.forEach((j) => resolve(j.config)); // a bad config is a ConfigError before anything else
  const keys = await Promise.all(jobs.map((j) => runKey(j.config)));
  const eligible = jobs.map((j) => only === null || j.variant.startsWith(only));
  const shard = settings.shard;
  const shards = shard === null ? null : shardsOfPlan(jobs, keys, shard.count, eligible);
  const selected = jobs.map((_, i) => eligible[i] && (shards === null || shards[i] === shard!.index));
  return { jobs, keys, eligible, selected };
}

/** The refusal for a problem needing the unscreened settings `missing`, or null (none, or an lr given). */
export function unscreenedRefusal(id: string, missing: readonly string[], lrGiven: boolean): string | null {
  if (missing.length === 0 || lrGiven) return null;
  return `${id}: no screened learning rate yet for ${missing.join(", ")}; run their screens ` +
    `(deno task recipes --only <setting>) and enter the winners in lib/recipes/chosen.ts, or give --lr`;
}

/** The command line recorded in results.json: --shard left out, since the file describes the whole sweep. */
export function sweepCommand(id: string, argv: readonly string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--shard") i++;
    else if (!argv[i].startsWith("--shard=")) kept.push(argv[i]);
  }
  return ["deno", "task", id, ...kept].join(" ");
}

/** The settings of a problem run with no flags (its default plan). */
export function defaultSettings(): ProblemFlags {
  return problemSettings([], "")!;
}

function usageOf(problem: ProblemDefinition): string {
  return `deno task ${problem.id} [flags]\n\n${problem.summary}\nWrites <out>/${problem.id}/results.json and ` +
    `<out>/${problem.id}/index.html.`;
}

/** Run one registered problem with the given flags. */
export async function runProblem(
  problem: ProblemDefinition,
  problems: readonly ProblemDefinition[],
  argv: readonly string[],
): Promise<void> {
  const settings = problemSettings(argv, usageOf(problem), problem.defaultSeeds);
  if (!settings) return;
  // A problem trains at its settings' screened learning rates: one whose screen has not finished (no winner in
  // lib/recipes/chosen.ts) would otherwise train at the model's default lr, under a run key the protocol never meant.
  // Refused before any work, unless the command gives its own lr (--lr, --config, --quick).
  takeUnscreened();
  const plan = await problemPlan(problem, settings);
  const refusal = unscreenedRefusal(problem.id, takeUnscreened(), settings.common.lr !== undefined);
  if (refusal !== null) throw new UsageError(refusal);
  const { jobs, selected } = plan;
  const dir = join(settings.out, problem.id);
  const command = sweepCommand(problem.id, argv);
  const everything = selected.every((x) => x);
  const t0 = performance.now();
  const before = new Set((await readFinished(dir)).map((r) => r.key));
  const reuseFrom = problems.filter((p) => p.id !== problem.id).map((p) => join(settings.out, p.id, "runs"));
  const reused = new Set<string>();
  try {
    const results = await runSweep(jobs, {
      problem: problem.id,
      dir,
      jobs: settings.jobs,
      fresh: settings.fresh,
      snapshotSeconds: settings.snapshotSeconds,
      command,
      select: everything ? undefined : (job) => selected[jobs.indexOf(job)],
      reuseFrom,
      onReuse: (key) => reused.add(key),
      reporter: new ProgressBoard(),
    });
    await pages(settings.out, problems);
    console.error(doneText(problem, results, before, reused, (performance.now() - t0) / 1000));
    const report = `report: ${join(dir, "index.html")}`;
    if (settings.shard === null) {
      console.error(`${problem.id}: ${results.runs.length}/${results.planned} runs; ${report}`);
    } else {
      const mine = selected.filter((x) => x).length;
      const left = results.pending?.length ?? 0;
      const state = left === 0
        ? `the sweep is complete (${results.runs.length}/${results.planned} runs, merged into results.json)`
        : `the sweep has ${results.runs.length}/${results.planned} runs, ${left} pending in other shards or sweeps ` +
          `(deno task plan ${problem.id} with the same flags shows them by shard)`;
      console.error(
        `${problem.id} shard ${shardText(settings.shard)}: its ${mine} run(s) are finished; ${state}; ${report}`,
      );
    }
  } catch (e) {
    if (e instanceof SweepInterrupted) {
      await pages(settings.out, problems);
      console.error(`${problem.id}: ${e.message}`);
      Deno.exit(130);
    }
    if (e instanceof SweepFailures || e instanceof SweepCannotWrite) {
      if (e instanceof SweepFailures) await pages(settings.out, problems);
      console.error(`${problem.id}: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}

/** The run files already in `dir` (finished before this command). */
async function readFinished(dir: string): Promise<readonly RunResult[]> {
  return (await rebuildResults("", dir)).runs;
}

/** The keys of `runs` whose finished run file is in one of `dirs` (another problem's runs, reused here by key). */
/** What the command did: runs trained here, reused, found finished; its wall time; the problem's headline. */
function doneText(
  problem: ProblemDefinition,
  results: ProblemResults,
  before: Set<string>,
  reused: Set<string>,
  seconds: number,
): string {
  const trained = results.runs.filter((r) => !before.has(r.key) && !reused.has(r.key)).length;
  const skipped = results.runs.length - trained - reused.size;
  const left = results.planned - results.runs.length;
  let headline = "";
  try {
    headline = ` ${problem.view(results, { results: new Map([[problem.id, results]]) }).headline}`;
  } catch {
    headline = "";
  }
  return `${problem.id}: ${trained} run(s) trained, ${
    reused.size > 0 ? `${reused.size} reused from other problems, ` : ""
  }${skipped} found finished${left > 0 ? `, ${left} not finished` : ""} in ${hoursText(seconds)}.${headline}`;
}

/**
 * The pages, drawn once the sweep has stopped (the sweep itself only trains and writes results); a page that cannot
 * be written is one line, the results being safe already.
 */
async function pages(out: string, problems: readonly ProblemDefinition[]): Promise<void> {
  try {
    await writeReports(out, problems);
  } catch (e) {
    console.error(
      `the pages in ${out} were not rebuilt (${String((e as Error).message).split("\n")[0]}); ` +
        "deno task report rebuilds them",
    );
  }
}

if (import.meta.main) {
  await cliMain(async () => {
    const [id, ...argv] = Deno.args;
    const problems = await loadProblems();
    const problem = problems.find((p) => p.id === id);
    if (!problem) {
      throw new UsageError(
        `unknown problem ${JSON.stringify(id ?? "")}: one of ${problems.map((p) => p.id).join(", ")}`,
      );
    }
    await runProblem(problem, problems, argv);
  });
}
