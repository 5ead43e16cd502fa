/**
 * Series: the runs of one setting (model, K, d, M, tau, L) across seeds, with the numbers that charts and
 * findings read from them: the mean and min-max accuracy at every evaluated length, how far accuracy holds
 * beyond the training length, and how fast training converged.
 *
 * Runs are grouped by their config fields, never by parsing `variant`.
 */
import { MODEL_NAMES, type ModelName } from "../training/config.ts";
import type { RunResult } from "../store/results.ts";
import type { LengthAccuracy } from "../training/record.ts";
import { type Interval, wilsonInterval } from "../stats/wilson.ts";

/** The config fields that identify a setting; runs that differ only in seed share a series. */
export const SETTING_FIELDS = ["model", "K", "d", "M", "tau", "L"] as const;
/** One of the setting fields. */
export type SettingField = typeof SETTING_FIELDS[number];

/** One seed's accuracy at one length. */
export interface SeedAccuracy {
  readonly seed: number;
  readonly accuracy: number;
}

/**
 * Mean and min-max over the evaluated seeds at one length, each seed's accuracy, and the Wilson 95% interval of
 * all the seeds' sequences pooled (`samples` sequences in all).
 */
export interface CurvePoint {
  readonly length: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly seeds: readonly SeedAccuracy[];
  readonly samples: number;
  readonly interval: Interval;
}

/** The runs of one setting across seeds, with their mean and min-max accuracy by length. */
export interface Series {
  /** Stable id made of the setting fields, e.g. "model=mamba K=16 d=8 M=1 tau=1 L=32". */
  readonly id: string;
  readonly model: ModelName;
  readonly K: number;
  readonly d: number;
  readonly M: number;
  readonly tau: number;
  readonly L: number;
  /** Every finished run of this setting (one per seed), in results order. */
  readonly runs: readonly RunResult[];
  /** The runs that have an accuracy curve (not diverged). */
  readonly evaluated: readonly RunResult[];
  /** Accuracy by length over `evaluated`, sorted by length; empty when every seed diverged. */
  readonly curve: readonly CurvePoint[];
}

/** How training ended across the seeds of a series. */
export interface Convergence {
  /** Steps at which converged seeds first passed the target (sorted). */
  readonly convergedSteps: readonly number[];
  /** Seeds that trained their budget without converging: plateaued or still improving. */
  readonly capped: readonly RunResult[];
  /** Seeds whose loss became NaN or infinite. */
  readonly diverged: readonly RunResult[];
  /** The target accuracy on the test batch (e.g. 0.99) and the consecutive checks it needed. */
  readonly target: number;
  readonly patience: number;
  /** The most steps any seed ran (its budget, unless it diverged). */
  readonly cap: number;
}

/** The value of a setting field of a series. */
export function fieldOf(s: Series, field: SettingField): string | number {
  return s[field];
}

function settingId(r: RunResult): string {
  return SETTING_FIELDS.map((f) => `${f}=${r.config[f]}`).join(" ");
}

/** A run's accuracy at the lengths of the assignment's range, tau+2 .. 3L (not the far lengths 4L, 8L, ...). */
export function upToThreeL(r: RunResult): readonly LengthAccuracy[] {
  return r.accuracyByLength.filter((p) => p.length <= 3 * r.config.L);
}

/** A run's accuracy at the far lengths beyond 3L (config.farLengths x L; none before training revision 3). */
export function beyondThreeL(r: RunResult): readonly LengthAccuracy[] {
  return r.accuracyByLength.filter((p) => p.length > 3 * r.config.L);
}

function curveOf(runs: readonly RunResult[]): CurvePoint[] {
  const byLength = new Map<number, { seed: number; accuracy: number; samples: number }[]>();
  for (const r of runs) {
    for (const p of upToThreeL(r)) {
      const list = byLength.get(p.length) ?? [];
      list.push({ seed: r.config.seed, accuracy: p.accuracy, samples: p.samples });
      byLength.set(p.length, list);
    }
  }
  return [...byLength.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([length, list]) => {
      const xs = list.map((x) => x.accuracy);
      const samples = list.reduce((n, x) => n + x.samples, 0);
      const correct = list.reduce((n, x) => n + Math.round(x.accuracy * x.samples), 0);
      return {
        length,
        mean: xs.reduce((a, b) => a + b, 0) / xs.length,
        min: Math.min(...xs),
        max: Math.max(...xs),
        seeds: list.map(({ seed, accuracy }) => ({ seed, accuracy })),
        samples,
        interval: wilsonInterval(correct, samples),
      };
    });
}

function modelRank(model: ModelName): number {
  return (MODEL_NAMES as readonly string[]).indexOf(model);
}

/** Group runs into series by setting; ordered by model (assignment order), then d, M, tau, L, K. */
export function groupSeries(runs: readonly RunResult[]): Series[] {
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const id = settingId(r);
    const list = groups.get(id) ?? [];
    list.push(r);
    groups.set(id, list);
  }
  const series = [...groups.entries()].map(([id, members]): Series => {
    const c = members[0].config;
    const evaluated = members.filter((r) => r.status !== "diverged" && r.accuracyByLength.length > 0);
    return {
      id,
      model: c.model,
      K: c.K,
      d: c.d,
      M: c.M,
      tau: c.tau,
      L: c.L,
      runs: members,
      evaluated,
      curve: curveOf(evaluated),
    };
  });
  return series.sort((a, b) =>
    modelRank(a.model) - modelRank(b.model) || a.d - b.d || a.M - b.M || a.tau - b.tau || a.L - b.L ||
    a.K - b.K
  );
}

/** The distinct values of a field among series, sorted. */
export function valuesOf(series: readonly Series[], field: SettingField): (string | number)[] {
  const values = [...new Set(series.map((s) => fieldOf(s, field)))];
  if (field === "model") return values.sort((a, b) => modelRank(a as ModelName) - modelRank(b as ModelName));
  return values.sort((a, b) => (a as number) - (b as number));
}

/** The curve point at the evaluated length nearest to `length` (ties: the shorter), or null without a curve. */
export function pointAt(s: Series, length: number): CurvePoint | null {
  let best: CurvePoint | null = null;
  for (const p of s.curve) {
    if (best === null || Math.abs(p.length - length) < Math.abs(best.length - length)) best = p;
  }
  return best;
}

/**
 * The longest length up to which mean accuracy stays >= `threshold` at every evaluated length from L on, or
 * null when it is already below the threshold at L (or there is no curve).
 */
export function holdsUpTo(s: Series, threshold: number): number | null {
  const atL = pointAt(s, s.L);
  if (atL === null || atL.mean < threshold) return null;
  let reach = atL.length;
  for (const p of s.curve) {
    if (p.length <= atL.length) continue;
    if (p.mean < threshold) break;
    reach = p.length;
  }
  return reach;
}

/** The longest evaluated length of a series (3L when complete), or null without a curve. */
export function longestLength(s: Series): number | null {
  return s.curve.length === 0 ? null : s.curve[s.curve.length - 1].length;
}

/** Lengths shorter than L where mean accuracy is below `threshold`: how many, and the worst of them. */
export function shortDips(s: Series, threshold: number): { count: number; worst: CurvePoint } | null {
  const below = s.curve.filter((p) => p.length < s.L && p.mean < threshold);
  if (below.length === 0) return null;
  const worst = below.reduce((a, b) => (b.mean < a.mean ? b : a));
  return { count: below.length, worst };
}

/** How training ended for the seeds of a series. */
export function convergenceOf(s: Series): Convergence {
  const first = s.runs[0].config;
  return {
    convergedSteps: s.runs
      .filter((r) => r.status === "converged" && r.convergedStep !== null)
      .map((r) => r.convergedStep as number)
      .sort((a, b) => a - b),
    capped: s.runs.filter((r) => r.status === "cap"),
    diverged: s.runs.filter((r) => r.status === "diverged"),
    target: first.target,
    patience: first.patience,
    cap: Math.max(...s.runs.map((r) => r.stepsRun)),
  };
}

/** The setting fields (other than those excluded) whose values differ among the series. */
export function varyingFields(series: readonly Series[], exclude: readonly SettingField[] = []): SettingField[] {
  return SETTING_FIELDS.filter((f) => !exclude.includes(f) && valuesOf(series, f).length > 1);
}
