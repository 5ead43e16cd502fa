/**
 * Evidence for mechanism claims: the series of one problem with the probe results of their runs, and per-seed
 * readers that turn runs and probes into the few numbers a claim quotes (accuracy at k·L, the best induction
 * and lag-τ scores, accuracy split by the distance between the queries, short-length accuracy, Mamba's
 * retention, the queries learned). Every reader returns null when its data is missing, so a claim without
 * its evidence says nothing instead of guessing.
 *
 * Glossary: L training length, l sequence length, i first query position, distance = (l-1) - i, τ delay.
 */
import { mean } from "../stats/mean.ts";
import type { RunResult } from "../store/results.ts";
import { accuracyAt } from "../store/results.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import { resolve, type ResolvedConfig } from "../training/config.ts";
import { type Series, type SettingField, upToThreeL } from "./series.ts";
import { pct, seriesName } from "./format.ts";

/** What claims read: a problem's series and the probes of its runs (by run key; empty without probes). */
export interface Evidence {
  readonly series: readonly Series[];
  readonly probes: ReadonlyMap<string, ProbeResult>;
  /** The name a sentence gives a series (its model, plus the fields that vary on the page, but `omit`). */
  readonly name: (s: Series, omit?: readonly SettingField[]) => string;
}

/** One evaluated seed of a series: its run and its probe (null when the run was not probed). */
export interface Seed {
  readonly run: RunResult;
  readonly probe: ProbeResult | null;
}

/** The evaluated (not diverged) seeds of a series. */
export function seedsOf(e: Evidence, s: Series): Seed[] {
  return s.evaluated.map((run) => ({ run, probe: e.probes.get(run.key) ?? null }));
}

/** The resolved config of a series (its first run's). */
export function configOf(s: Series): ResolvedConfig {
  return resolve(s.runs[0].config);
}

/** What kind of model a series is, from its mixers and positions (never from its name). */
export type Architecture = "attention" | "mamba" | "hybrid";

export function architectureOf(s: Series): Architecture {
  const mixers = configOf(s).mixers;
  if (mixers.every((m) => m === "attention")) return "attention";
  if (mixers.every((m) => m === "mamba")) return "mamba";
  return "hybrid";
}

/** A seed's accuracy at k·L (null when not evaluated). */
export function accuracyAtMultiple(seed: Seed, k: number): number | null {
  return accuracyAt(seed.run, k * seed.run.config.L);
}

/** A seed's mean accuracy over the evaluated lengths in [from, to]. */
export function meanAccuracy(seed: Seed, from: number, to: number): number | null {
  return mean(seed.run.accuracyByLength.filter((a) => a.length >= from && a.length <= to).map((a) => a.accuracy));
}

/** Whether a seed keeps ≥ `threshold` at every evaluated length from L on (to 3L). */
export function holdsBeyondL(seed: Seed, threshold: number): boolean {
  const beyond = upToThreeL(seed.run).filter((a) => a.length >= seed.run.config.L);
  return beyond.length > 0 && beyond.every((a) => a.accuracy >= threshold);
}

/** The step at which every seed of a series converged, or null when any did not. */
export function convergedStepsOf(s: Series): number[] | null {
  const xs = s.runs.map((r) => r.convergedStep);
  return xs.length > 0 && xs.every((x): x is number => x !== null) ? xs : null;
}

function statsAt(seed: Seed, layer: "first" | "last", length: number) {
  const layers = seed.probe?.attention ?? [];
  if (layers.length === 0) return null;
  const l = layer === "first" ? layers[0] : layers[layers.length - 1];
  return l.byLength.find((s) => s.length === length) ?? null;
}

function bestOf(values: readonly number[]): { head: number; value: number } {
  let head = 0;
  for (let h = 1; h < values.length; h++) if (values[h] > values[head]) head = h;
  return { head, value: values[head] };
}

/**
 * The induction score of the last attention layer's best head (chosen at L) at k·L: the mean weight from the
 * final query to the value's position i+τ.
 */
export function inductionAt(seed: Seed, k: number): number | null {
  const atL = statsAt(seed, "last", seed.run.config.L);
  const at = statsAt(seed, "last", k * seed.run.config.L);
  if (atL === null || at === null) return null;
  return at.induction[bestOf(atL.induction).head];
}

/** The lag-τ score (weight from t to t−τ) of the first attention layer's best head (chosen at L) at k·L. */
export function lagAt(seed: Seed, k: number): number | null {
  const atL = statsAt(seed, "first", seed.run.config.L);
  const at = statsAt(seed, "first", k * seed.run.config.L);
  if (atL === null || at === null) return null;
  return at.lagTau[bestOf(atL.lagTau).head];
}

/** The weight a head spreading evenly over the keys gives one key, averaged over positions t ≥ τ of length L. */
export function uniformWeight(L: number, tau: number): number {
  let sum = 0;
  for (let t = tau; t < L; t++) sum += 1 / (t + 1);
  return sum / (L - tau);
}

/**
 * Accuracy at total length k·L split by the distance between the queries: `near` averages the distances ≤ L
 * (first query late in the sequence), `far` those > L (first query within the first positions).
 */
export function distanceSplit(seed: Seed, k: number): { near: number; far: number } | null {
  const c = seed.probe?.accuracy.byDistance.find((x) => x.length === k * seed.run.config.L);
  if (c === undefined) return null;
  const L = seed.run.config.L;
  const near = mean(c.accuracy.filter((_, j) => c.at[j] <= L));
  const far = mean(c.accuracy.filter((_, j) => c.at[j] > L));
  return near === null || far === null ? null : { near, far };
}

/** Short-length probe: accuracy with the first query at position 0, at positions ≥ 1, and the lengths probed. */
export function shortSplit(seed: Seed): { first: number; rest: number; from: number; to: number } | null {
  const s = seed.probe?.accuracy.shortLengths;
  if (s === undefined || s.lengths.length === 0) return null;
  const first = s.accuracy.map((row) => row[0]).filter((v): v is number => v !== null);
  const rest = s.accuracy.flatMap((row) => row.slice(1)).filter((v): v is number => v !== null);
  if (first.length === 0 || rest.length === 0) return null;
  return { first: mean(first)!, rest: mean(rest)!, from: s.lengths[0], to: s.lengths[s.lengths.length - 1] };
}

/**
 * Mamba's memory: over the layers, the largest mean share of the value's write that the best channel still
 * holds at the final query, for distances beyond 2L (at the longest probed length).
 */
export function retentionBeyond2L(seed: Seed): number | null {
  const L = seed.run.config.L;
  const values = (seed.probe?.mamba ?? []).flatMap((m) => {
    const s = m.byLength[m.byLength.length - 1];
    const far = mean(s.retentionMax.filter((_, j) => s.distances[j] > 2 * L));
    return far === null ? [] : [far];
  });
  return values.length === 0 ? null : Math.max(...values);
}

/**
 * Where the wrong answers at L come from: the share of them equal to the token `offset` positions after the query's
 * first occurrence (null without the probe, or with no wrong answer to classify).
 */
export function wrongAtOffset(seed: Seed, offset: number): number | null {
  const w = seed.probe?.wrongOffsets;
  if (w === undefined || w === null || w.wrong === 0) return null;
  const k = w.offsets.indexOf(offset);
  if (k < 0) throw new Error(`offset=${offset}: the probe records offsets ${w.offsets[0]} to ${w.offsets.at(-1)}`);
  return w.share[k];
}

/**
 * Accuracy at `k` x L on the outside-the-query-set probe's rows: with training's fillers (`usual`) or with every
 * filler outside the query set (`outside`); null without the probe or where it does not apply (M = 1 or M = K).
 */
export function fillersAt(seed: Seed, k: number, which: "usual" | "outside"): number | null {
  const o = seed.probe?.outsideQueries;
  if (o === undefined || o === null) return null;
  const j = o.lengths.indexOf(k * seed.run.config.L);
  if (j < 0) throw new Error(`at=${k}L: the probe scored lengths ${o.lengths.join(", ")}`);
  return o[which][j];
}

/** The queries (1..M) a seed answers with ≥ `threshold` accuracy at L, from the per-query probe. */
export function queriesLearned(seed: Seed, threshold: number): { learned: number; of: number } | null {
  const c = seed.probe?.accuracy.byQuery.find((x) => x.length === seed.run.config.L);
  if (c === undefined || seed.run.config.M <= 1) return null;
  return { learned: c.accuracy.filter((a) => a >= threshold).length, of: seed.run.config.M };
}

/**
 * The held-out accuracy of a model that answers k of the M queries and guesses among the K tokens on the rest:
 * (k + (M - k)/K) / M.
 */
export function partialLevel(k: number, M: number, K: number): number {
  return (k + (M - k) / K) / M;
}

/**
 * How many of the levels between chance and all queries (k = 1 .. M-1 answered, `partialLevel`) a run's held-out
 * accuracy stayed at, within `within` of the level, for at least `minSteps` steps in all (each check counts for the
 * steps since the one before): a run that learns its queries one at a time rests on several; one that learns them
 * together on none. Null for M = 1 (no level between chance and solved).
 */
export function levelsHeld(run: RunResult, minSteps: number, within: number): number | null {
  const { M, K } = run.config;
  if (M <= 1) return null;
  const h = run.history;
  let held = 0;
  for (let k = 1; k < M; k++) {
    const level = partialLevel(k, M, K);
    let steps = 0;
    h.forEach((p, j) => {
      if (Math.abs(p.accuracy - level) <= within) steps += p.step - (j === 0 ? 0 : h[j - 1].step);
    });
    if (steps >= minSteps) held++;
  }
  return held;
}

/** Values of `read` over the seeds that have it. */
export function valuesOver(seeds: readonly Seed[], read: (s: Seed) => number | null): number[] {
  return seeds.map(read).filter((v): v is number => v !== null && Number.isFinite(v));
}

/** "0.99" for one value, "0.92–0.99" for several: the range over seeds, in the given format. */
export function rangeText(values: readonly number[], format: (v: number) => string = (v) => v.toFixed(2)): string {
  if (values.length === 0) return "—";
  const lo = Math.min(...values), hi = Math.max(...values);
  return format(lo) === format(hi) ? format(lo) : `${format(lo)}–${format(hi)}`;
}

/** Accuracy range over seeds: "98.6–99.7%". */
export function pctRange(values: readonly number[]): string {
  return rangeText(values, (v) => pct(v).replace("%", "")) + "%";
}

/** " on all 3 seeds", " on 2 of 3 seeds" (with a leading space), "" for a single seed. */
export function seedCount(k: number, n: number): string {
  if (n <= 1) return "";
  return k === n ? ` on all ${n} seeds` : ` on ${k} of ${n} seeds`;
}

/** The evidence of a page: its series, their probes, and names from the fields that vary among the series. */
export function evidenceOf(
  series: readonly Series[],
  probes: ReadonlyMap<string, ProbeResult>,
  nameFields: readonly SettingField[],
): Evidence {
  return { series, probes, name: (s, omit = []) => seriesName(s, nameFields.filter((f) => !omit.includes(f))) };
}
