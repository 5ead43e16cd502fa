/**
 * The functions and formats authored answers may use (lib/site/checked_text.ts), over one problem's runs.
 *
 * Lookups select runs by their settings, given as named arguments (model, d, M, tau, L, K: every one given must
 * match; the ones left out may take any value) and return one value per seed, in seed order:
 *   acc(..., at="3L")    accuracy at a length: "L", "2L", ..., "16L" or a number of tokens
 *   conv(...)            the step of convergence to 99% (null where a seed did not converge)
 *   final(...)           held-out accuracy at the last check
 *   heldout(..., step=N) held-out accuracy at the last check at or before step N (how far training had got)
 *   params(...)          the trainable parameters (the fixed embedding not counted)
 *   levels(..., steps=500, within=0.02)   M > 1: how many of the M - 1 levels between chance and solved, partial(k,
 *                        M, K) for k = 1 .. M-1, the held-out accuracy rested at (within 0.02, at least 500 steps)
 * and, from the runs' probe files (null for a seed not probed; a selection with no probe at all is an error):
 *   induction(..., at="L")  the induction score: the weight the final query's best head (last attention layer,
 *                           chosen at L) puts on the value's position i+tau, at that length
 *   lag(..., at="L")        the lag-tau score: the weight the first attention layer's best head puts on the token
 *                           tau back, averaged over positions
 *   near(..., at="3L"), far(..., at="3L")   accuracy with the queries at most L apart, and more than L apart
 *   short_first(...), short_rest(...)   accuracy at the short lengths the probe tries (3 to 14 tokens) with the
 *                           query's first occurrence at position 0, and anywhere else
 *   retention(...)          Mamba: the largest share of the value's write a state channel still holds at the final
 *                           query, for queries more than 2L apart
 *   wrong(..., offset=o)    the share of the wrong answers at L that are the token o positions after the query's
 *                           first occurrence (1/(K-1) for an answer at random; null for a seed with no wrong answer)
 *   queries(..., above=0.9) M > 1: how many of the M query tokens a seed answers at L with at least that accuracy
 *   distractors(..., at="2L"), no_distractors(..., at="2L")   1 < M < K: accuracy on the same sequences (query,
 *                           value, positions) with training's fillers, among which the other M - 1 candidate queries
 *                           appear, and with every filler drawn from outside the query set; at L, 2L or 3L
 * and, from the runs' long evaluations (`deno task long-eval`; the same null/error rule):
 *   long(..., at=1048576, weights="final")   accuracy at that many tokens, of the final weights or ("converged")
 *                           the weights kept when the run first held 99%
 * and counts: seeds(...), converged(...), plateaued(...) (not converged, and the best of the last fifth of the checks
 * less than 2 points above the best before them), collapsed(...) (converged, then ended more than 20 points below
 * its best). `study="delay"` selects among another study's runs (same folder of
 * results) instead of this one's. uniform(L, tau) is the weight an evenly spread head gives one key; partial(k, M, K)
 * = (k + (M - k)/K)/M the accuracy of answering k of M queries and guessing on the rest. Reductions over a seed list:
 * mean, min, max (all seeds must have a value), count_at_least(list, x); known(list) keeps the seeds that have a value
 * (min(known(conv(...))): the first convergence among the seeds that converged); where(values, by, lo, hi) keeps
 * the seeds whose `by` is in [lo, hi) (min(where(acc(...), lag(...), 0.7, 2)): the worst seed among those with a
 * head). Selecting no run is an error naming the selection, so a typo cannot pass as a number. diff(a, b) is the seed-wise difference of two seed lists of the
 * same runs (min(diff(a, b)) > 0: a exceeds b on every seed) and ratio(a, b) their seed-wise quotient (null where b
 * is 0; min(ratio(acc(at="2L"), acc(at="L"))): the least share of its accuracy at L a seed keeps at 2L); argmin and argmax give the position of a seed in its
 * list (argmin(a) == argmin(b): the seed lowest on one reading is lowest on the other).
 *
 * Formats: pct (0.9375 -> "93.8%"), points (a difference of two accuracies, 0.332 -> "33.2 points"), range (a seed list of accuracies -> "93.8% [80.1–99.9%]" or "100%" when all
 * seeds agree), steps (12000 -> "12,000"), int, score (a probe score, 0.917 -> "0.92"),
 * scores (a seed list of probe scores, "0.87 [0.54–1.00]"), counts (a seed list of counts, "3 [2–4]" or "4" when all
 * seeds agree).
 */
import type { ProblemResults, RunResult } from "../store/results.ts";
import { accuracyAt } from "../store/results.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import type { LongEval, WhichWeights } from "../probes/long_file.ts";
import {
  distanceSplit,
  fillersAt,
  inductionAt,
  lagAt,
  levelsHeld,
  partialLevel,
  queriesLearned,
  retentionBeyond2L,
  type Seed,
  shortSplit,
  uniformWeight,
  wrongAtOffset,
} from "./evidence.ts";
import type { TextFormat, TextFunction, TextFunctions, TextValue } from "./checked_text.ts";
import { pct, steps } from "./format.ts";
import { collapsed } from "../recipes/protocol.ts";

const SELECTORS = ["model", "d", "M", "tau", "L", "K"] as const;

function select(runs: readonly RunResult[], named: Readonly<Record<string, TextValue>>, skip: string[]): RunResult[] {
  for (const key of Object.keys(named)) {
    if (!(SELECTORS as readonly string[]).includes(key) && !skip.includes(key)) {
      throw new Error(`unknown argument ${key}= (select with ${SELECTORS.join(", ")})`);
    }
  }
  const chosen = runs.filter((r) =>
    SELECTORS.every((f) => named[f] === undefined || (r.config as unknown as Record<string, unknown>)[f] === named[f])
  );
  if (chosen.length === 0) {
    const what = Object.entries(named).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    throw new Error(`no runs with ${what.join(", ") || "any settings"}`);
  }
  const settings = new Set(chosen.map((r) => SELECTORS.map((f) => r.config[f]).join(" ")));
  if (settings.size > 1) {
    throw new Error(`the selection matches ${settings.size} settings (${[...settings].join("; ")}): name more of them`);
  }
  return [...chosen].sort((a, b) => a.config.seed - b.config.seed);
}

/** "3L" -> 3 x L, "45" or 45 -> 45. */
function lengthOf(at: TextValue, L: number): number {
  if (typeof at === "number") return at;
  const m = /^(\d*)L$/.exec(String(at));
  if (m) return (m[1] === "" ? 1 : Number(m[1])) * L;
  throw new Error(`at=${JSON.stringify(at)} is not a length like "L", "3L" or 96`);
}

function seedList(v: TextValue, fn: string): readonly (number | null)[] {
  if (!Array.isArray(v)) throw new Error(`${fn}() takes a seed list, got ${JSON.stringify(v)}`);
  return v;
}

function complete(v: TextValue, fn: string): number[] {
  const list = seedList(v, fn);
  if (list.some((x) => x === null)) throw new Error(`${fn}() of a list with missing seeds (${JSON.stringify(list)})`);
  return list as number[];
}

/** What answers may read besides their own runs: the other studies' results, and the probes of the runs. */
export interface AnswerSources {
  readonly studies?: ReadonlyMap<string, ProblemResults>;
  readonly probes?: ReadonlyMap<string, ProbeResult>;
  /** Every study's probes, by study id then run key: what a lookup with `study="..."` reads. */
  readonly studyProbes?: ReadonlyMap<string, ReadonlyMap<string, ProbeResult>>;
  readonly long?: ReadonlyMap<string, Partial<Record<WhichWeights, LongEval>>>;
}

/** The functions of the runs `runs`. */
export function answerFunctions(runs: readonly RunResult[], sources: AnswerSources = {}): TextFunctions {
  const own = sources.probes ?? new Map<string, ProbeResult>();
  const probesOf = (named: Readonly<Record<string, TextValue>>): ReadonlyMap<string, ProbeResult> =>
    named.study === undefined ? own : sources.studyProbes?.get(String(named.study)) ?? new Map<string, ProbeResult>();
  const runsOf = (named: Readonly<Record<string, TextValue>>): readonly RunResult[] => {
    if (named.study === undefined) return runs;
    const other = sources.studies?.get(String(named.study));
    if (other === undefined) throw new Error(`no results of the study ${JSON.stringify(named.study)}`);
    return other.runs;
  };
  const lookup = (
    pick: (r: RunResult, named: Readonly<Record<string, TextValue>>) => number | null,
    extra: string[] = [],
  ) => ((_args, named) => select(runsOf(named), named, [...extra, "study"]).map((r) => pick(r, named))) as TextFunction;
  /** A probe reading per seed; an error when none of the selected runs was probed. */
  const probed = (read: (seed: Seed, named: Readonly<Record<string, TextValue>>) => number | null, extra: string[]) =>
    ((_args, named) => {
      const chosen = select(runsOf(named), named, [...extra, "study"]);
      const probes = probesOf(named);
      if (!chosen.some((r) => probes.has(r.key))) {
        throw new Error(`no probe files for ${chosen[0].config.model} (run \`deno task probe\` on the study)`);
      }
      return chosen.map((run) => read({ run, probe: probes.get(run.key) ?? null }, named));
    }) as TextFunction;
  const multiple = (seed: Seed, named: Readonly<Record<string, TextValue>>, fallback: string) =>
    lengthOf(named.at ?? fallback, seed.run.config.L) / seed.run.config.L;
  return {
    induction: probed((seed, named) => inductionAt(seed, multiple(seed, named, "L")), ["at"]),
    lag: probed((seed, named) => lagAt(seed, multiple(seed, named, "L")), ["at"]),
    near: probed((seed, named) => distanceSplit(seed, multiple(seed, named, "3L"))?.near ?? null, ["at"]),
    far: probed((seed, named) => distanceSplit(seed, multiple(seed, named, "3L"))?.far ?? null, ["at"]),
    retention: probed((seed) => retentionBeyond2L(seed), []),
    short_first: probed((seed) => shortSplit(seed)?.first ?? null, []),
    short_rest: probed((seed) => shortSplit(seed)?.rest ?? null, []),
    queries: probed((seed, named) => {
      const above = named.above ?? 0.9;
      if (typeof above !== "number") throw new Error("queries(): above= takes a number");
      return queriesLearned(seed, above)?.learned ?? null;
    }, ["above"]),
    distractors: probed((seed, named) => fillersAt(seed, multiple(seed, named, "2L"), "usual"), ["at"]),
    no_distractors: probed((seed, named) => fillersAt(seed, multiple(seed, named, "2L"), "outside"), ["at"]),
    wrong: probed((seed, named) => {
      if (typeof named.offset !== "number") throw new Error("wrong() needs offset=o");
      return wrongAtOffset(seed, named.offset);
    }, ["offset"]),
    long: (_args, named) => {
      const chosen = select(runsOf(named), named, ["at", "weights", "study"]);
      const which = String(named.weights ?? "final") as WhichWeights;
      if (which !== "final" && which !== "converged") {
        throw new Error(`weights=${JSON.stringify(which)}: final or converged`);
      }
      const files = chosen.map((r) => sources.long?.get(r.key)?.[which]);
      if (files.every((f) => f === undefined)) {
        throw new Error(`no long evaluations for ${chosen[0].config.model} (run \`deno task long-eval\` on the study)`);
      }
      return files.map((f, i) =>
        f?.lengths.find((a) => a.length === lengthOf(named.at ?? 2 ** 20, chosen[i].config.L))?.accuracy ?? null
      );
    },
    uniform: ([L, tau]) => uniformWeight(L as number, tau as number),
    acc: lookup((r, named) => {
      const length = lengthOf(named.at ?? "L", r.config.L);
      const a = accuracyAt(r, length);
      if (a === null && r.status !== "diverged") throw new Error(`length ${length} was not evaluated`);
      return a;
    }, ["at"]),
    conv: lookup((r) => r.convergedStep),
    params: lookup((r) => r.paramCount),
    levels: lookup((r, named) => {
      const minSteps = named.steps ?? 500, within = named.within ?? 0.02;
      if (typeof minSteps !== "number" || typeof within !== "number") {
        throw new Error("levels(): steps= and within= take numbers");
      }
      return levelsHeld(r, minSteps, within);
    }, ["steps", "within"]),
    partial: ([k, M, K]) => {
      if (![k, M, K].every((x) => typeof x === "number")) throw new Error("partial(k, M, K) takes three numbers");
      return partialLevel(k as number, M as number, K as number);
    },
    final: lookup((r) => r.history.at(-1)?.accuracy ?? null),
    heldout: lookup((r, named) => {
      const step = named.step;
      if (typeof step !== "number") throw new Error("heldout() needs step=N");
      return [...r.history].reverse().find((h) => h.step <= step)?.accuracy ?? null;
    }, ["step"]),
    seeds: (_args, named) => select(runsOf(named), named, ["study"]).length,
    converged: (_args, named) => select(runsOf(named), named, ["study"]).filter((r) => r.convergedStep !== null).length,
    plateaued: (_args, named) =>
      select(runsOf(named), named, ["study"]).filter((r) => r.verdict === "plateaued").length,
    collapsed: (_args, named) =>
      select(runsOf(named), named, ["study"]).filter((r) => r.convergedStep !== null && collapsed(r.history)).length,
    mean: ([v]) => {
      const xs = complete(v, "mean");
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    },
    where: ([v, by, lo, hi]) => {
      const xs = seedList(v, "where"), ys = seedList(by, "where");
      if (xs.length !== ys.length) throw new Error(`where() of seed lists of ${xs.length} and ${ys.length} seeds`);
      if (typeof lo !== "number" || typeof hi !== "number") {
        throw new Error("where(values, by, lo, hi): lo, hi numbers");
      }
      const kept = xs.filter((_, i) => ys[i] !== null && ys[i]! >= lo && ys[i]! < hi);
      if (kept.length === 0) throw new Error(`where(): no seed has ${lo} <= value < ${hi} (${JSON.stringify(ys)})`);
      return kept;
    },
    known: ([v]) => {
      const xs = seedList(v, "known").filter((x) => x !== null);
      if (xs.length === 0) throw new Error(`known() of a list with no value (${JSON.stringify(v)})`);
      return xs;
    },
    min: ([v]) => Math.min(...complete(v, "min")),
    max: ([v]) => Math.max(...complete(v, "max")),
    argmin: ([v]) => {
      const xs = complete(v, "argmin");
      return xs.indexOf(Math.min(...xs));
    },
    argmax: ([v]) => {
      const xs = complete(v, "argmax");
      return xs.indexOf(Math.max(...xs));
    },
    diff: ([a, b]) => {
      const xs = seedList(a, "diff"), ys = seedList(b, "diff");
      if (xs.length !== ys.length) throw new Error(`diff() of seed lists of ${xs.length} and ${ys.length} seeds`);
      return xs.map((x, i) => x === null || ys[i] === null ? null : x - ys[i]!);
    },
    ratio: ([a, b]) => {
      const xs = seedList(a, "ratio"), ys = seedList(b, "ratio");
      if (xs.length !== ys.length) throw new Error(`ratio() of seed lists of ${xs.length} and ${ys.length} seeds`);
      return xs.map((x, i) => x === null || ys[i] === null || ys[i] === 0 ? null : x / ys[i]!);
    },
    count_at_least: ([v, x]) => seedList(v, "count_at_least").filter((y) => y !== null && y >= (x as number)).length,
  };
}

function numberFormat(f: (x: number) => string): TextFormat {
  return (v) => {
    if (typeof v !== "number") throw new Error(`expects a number, got ${JSON.stringify(v)}`);
    return f(v);
  };
}

/** The formats of authored answers. */
export const ANSWER_FORMATS: Readonly<Record<string, TextFormat>> = {
  pct: numberFormat(pct),
  points: numberFormat((x) => `${(100 * x).toFixed(1)} points`),
  steps: numberFormat(steps),
  int: numberFormat((x) => String(Math.round(x))),
  score: numberFormat((x) => x.toFixed(2)),
  scores: (v) => {
    const xs = complete(v, "scores");
    const lo = Math.min(...xs), hi = Math.max(...xs), mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return lo.toFixed(2) === hi.toFixed(2) ? mean.toFixed(2) : `${mean.toFixed(2)} [${lo.toFixed(2)}–${hi.toFixed(2)}]`;
  },
  counts: (v) => {
    const xs = complete(v, "counts");
    const lo = Math.min(...xs), hi = Math.max(...xs), mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    return lo === hi ? String(lo) : `${Number(mean.toFixed(1))} [${lo}–${hi}]`;
  },
  range: (v) => {
    const xs = complete(v, "range");
    if (xs.some((x) => x < 0 || x > 1)) {
      throw new Error(`range formats accuracies in [0, 1], got ${JSON.stringify(xs)} (counts: | counts)`);
    }
    const lo = Math.min(...xs), hi = Math.max(...xs), mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    if (pct(lo) === pct(hi)) return pct(mean);
    return `${pct(mean)} [${pct(lo).replace("%", "")}–${pct(hi)}]`;
  },
};
