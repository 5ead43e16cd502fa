/**
 * Claims about training and about lengths below L: which model converges fastest on every seed (and why the
 * Hybrid can), which converges slowest, how multi-query recall is learned (one query at a time, and whether a
 * seed that stopped did so on a stair), and why models exact at L can fail at shorter lengths.
 */
import type { Claim } from "../answers.ts";
import {
  accuracyAtMultiple,
  architectureOf,
  configOf,
  convergedStepsOf,
  type Evidence,
  meanAccuracy,
  pctRange,
  rangeText,
  seedCount,
  seedsOf,
  shortSplit,
  valuesOver,
} from "../evidence.ts";
import { HOLD } from "../findings.ts";
import type { Series } from "../series.ts";
import { isStair, lengthOf, riseFor, stairIndex, type Stretch, stretchesOf } from "../stairs.ts";
import { plateauLevel } from "../../training/plateau.ts";
import { fieldText, listText, pct, steps } from "../format.ts";

function byTau(e: Evidence): Series[][] {
  const taus = [...new Set(e.series.map((s) => s.tau))].sort((a, b) => a - b);
  return taus.map((t) => e.series.filter((s) => s.tau === t));
}

/**
 * The fastest model at each delay, claimed only when its slowest seed converged before every other model's
 * fastest; and the slowest, when every other model converged before it on every seed.
 */
export const fastestClaim: Claim = (e) =>
  byTau(e).flatMap((group) => {
    if (group.length < 2) return [];
    const out: string[] = [];
    const done = group.map((s) => ({ s, steps: convergedStepsOf(s) }));
    const ranked = done.filter((x) => x.steps !== null).sort((a, b) => Math.max(...a.steps!) - Math.max(...b.steps!));
    const tau = fieldText("tau", group[0].tau);
    if (ranked.length > 0) {
      const best = ranked[0];
      const others = done.filter((x) => x !== best);
      const beatsAll = others.every((x) => x.steps === null || Math.min(...x.steps) > Math.max(...best.steps!));
      if (beatsAll) {
        const next = ranked[1];
        const c = configOf(best.s);
        const why = architectureOf(best.s) === "hybrid" && best.s.tau < c.convWidth
          ? `: its Mamba layer's ${c.convWidth}-tap convolution already sees the token τ back, so only the ` +
            `attention layer's content match has to be learned`
          : "";
        out.push(
          `At ${tau}, ${e.name(best.s, ["tau"])} converges fastest on every seed (${
            rangeText(best.steps!, steps)
          } steps${
            next === undefined ? "" : `; next ${e.name(next.s, ["tau"])}, ${rangeText(next.steps!, steps)}`
          })${why}.`,
        );
      } else {
        out.push(`At ${tau}, no model converges fastest on every seed (the step counts of the seeds overlap).`);
      }
    }
    const never = done.filter((x) => x.steps === null);
    if (never.length > 0) {
      out.push(
        `At ${tau}, ${listText(never.map((x) => e.name(x.s, ["tau"])))} did not converge on every seed within ${
          steps(Math.max(...never.flatMap((x) => x.s.runs.map((r) => r.stepsRun))))
        } steps.`,
      );
    } else if (ranked.length > 1) {
      const worst = ranked[ranked.length - 1];
      const rest = ranked.slice(0, -1);
      if (rest.every((x) => Math.max(...x.steps!) < Math.min(...worst.steps!))) {
        const why = architectureOf(worst.s) === "attention" && configOf(worst.s).pe === "none"
          ? ": with no position encoding it has to derive which token came before from the causal mask alone"
          : "";
        out.push(
          `At ${tau}, ${e.name(worst.s, ["tau"])} is slowest on every seed (${
            rangeText(worst.steps!, steps)
          } steps)${why}.`,
        );
      }
    }
    return out;
  });

/**
 * Models exact at L but failing at short lengths: in training the final query is always at position L−1 with
 * L−1 tokens before it; the short-length probe says whether the failure is the length or a query at the start.
 */
export const shortLengthClaim: Claim = (e) => {
  const failing = e.series.flatMap((s) => {
    const seeds = seedsOf(e, s).filter((x) => (accuracyAtMultiple(x, 1) ?? 0) >= HOLD);
    const short = valuesOver(seeds, (x) => meanAccuracy(x, 0, Math.floor(x.run.config.L / 4)));
    if (short.length === 0 || Math.max(...short) >= 0.5) return [];
    const split = seeds.map(shortSplit).filter((v) => v !== null);
    return [{ s, short, split }];
  });
  if (failing.length === 0) return [];
  const L = failing[0].s.L;
  const names = listText(failing.map((f) => `${e.name(f.s)} at ${pctRange(f.short)}`));
  const lengthItself = failing.filter((f) =>
    f.split.length > 0 && f.split.every((v) => Math.abs(v.first - v.rest) < 0.15)
  );
  const startOnly = failing.filter((f) => f.split.length > 0 && f.split.every((v) => v.first < v.rest - 0.15));
  const holders = e.series.filter((s) =>
    !failing.some((f) => f.s === s) &&
    valuesOver(seedsOf(e, s), (x) => meanAccuracy(x, 0, Math.floor(x.run.config.L / 4))).every((v) => v >= HOLD) &&
    s.evaluated.length > 0
  );
  const out = [
    `Below L, ${names} ${failing.length === 1 ? "is" : "are"} under 50% on average over the lengths up to L/4 = ${
      Math.floor(L / 4)
    } though ≥ ${pct(HOLD)} at L: in training the final query always sits at position L − 1 = ${
      L - 1
    } with L − 1 tokens before it, and a shorter sequence puts it where the model never had to answer.${
      holders.length === 0
        ? ""
        : ` ${listText(holders.map((s) => e.name(s)))} ${holders.length === 1 ? "does" : "do"} not fail there (≥ ${
          pct(HOLD)
        } at those lengths).`
    }`,
  ];
  if (lengthItself.length > 0) {
    out.push(
      `For ${listText(lengthItself.map((f) => e.name(f.s)))} the short-length probe finds ${
        lengthItself.length === 1 ? "it" : "them"
      } as wrong with the ` +
        `first query at position 0 (${pctRange(lengthItself.flatMap((f) => f.split.map((v) => v.first)))}) as ` +
        `elsewhere (${pctRange(lengthItself.flatMap((f) => f.split.map((v) => v.rest)))}): it is the length ` +
        `itself, not a query with nothing before it.`,
    );
  }
  if (startOnly.length > 0) {
    out.push(
      `For ${listText(startOnly.map((f) => e.name(f.s)))} the failures come from a first query at position 0 (${
        pctRange(startOnly.flatMap((f) => f.split.map((v) => v.first)))
      }, against ${pctRange(startOnly.flatMap((f) => f.split.map((v) => v.rest)))} elsewhere).`,
    );
  }
  return out;
};

/** The batch sizes and the check that the convergence curves use (the assignment asks to state them). */
export const batchClaim: Claim = (e) => {
  const configs = e.series.flatMap((s) => s.runs.map((r) => r.config));
  if (configs.length === 0) return [];
  const distinct = (xs: number[]) => listText([...new Set(xs)].sort((a, b) => a - b).map(String));
  return [
    `Training uses minibatches of ${distinct(configs.map((c) => c.batch))} sequences; every ${
      distinct(configs.map((c) => c.checkEvery))
    } steps the model is scored on a fixed held-out batch of ${
      distinct(configs.map((c) => c.testBatch))
    } sequences at length L, and a run counts as converged at the first of ${
      distinct(configs.map((c) => c.patience))
    } consecutive checks ≥ ${pct(configs[0].target)}.`,
  ];
};

/** A flat stretch at least this many steps long counts as a stair (20 checks at the default check interval). */
const MIN_STAIR = 1000;

/**
 * Multi-query recall learned one query at a time: the held-out accuracy sits on stairs at k/M + (1 − k/M)/K, and
 * a seed that stopped on one ("plateaued") is compared with the longest stair any seed rose out of: if it had sat
 * no longer, its plateau is the stopping rule's verdict, not evidence that more steps would not lift it.
 */
export const stairsClaim: Claim = (e) =>
  e.series.filter((s) => s.M > 1).flatMap((s) => {
    const per = seedsOf(e, s).map(({ run }) => ({ run, stretches: stretchesOf(run.history, riseFor(s.M, s.K)) }));
    const stairsOf = (st: readonly Stretch[]) => st.filter((t) => isStair(t, s.M, s.K, MIN_STAIR));
    const stepped = per.filter((p) => stairsOf(p.stretches).length >= 2);
    if (stepped.length === 0) return [];
    const shown = stepped.reduce((a, b) => stairsOf(b.stretches).length > stairsOf(a.stretches).length ? b : a);
    const levels = stairsOf(shown.stretches).map((t) => `${pct(t.level)} (k = ${stairIndex(t.level, s.M, s.K)})`);
    const roseOut = per.flatMap((p) => p.stretches.filter((t) => t.rose).map((t) => ({ p, n: lengthOf(t) })));
    const longest = roseOut.reduce((a, b) => b.n > a.n ? b : a, { p: shown, n: 0 });
    const out = [
      `${e.name(s)} learns the queries one at a time: on seed ${shown.run.config.seed} the held-out accuracy sits ` +
      `at ${listText(levels)}, the levels of k of the M = ${s.M} queries answered and the rest guessed among ` +
      `K = ${s.K} values (k/M + (1 − k/M)/K). Stairs like these appear${
        seedCount(stepped.length, per.length) || " on its one seed"
      }; the longest a seed rose out of lasted ${steps(longest.n)} steps (seed ${longest.p.run.config.seed}).`,
    ];
    for (const p of per.filter((p) => p.run.verdict === "plateaued")) {
      const end = p.stretches[p.stretches.length - 1];
      const k = stairIndex(end.level, s.M, s.K);
      const atL = accuracyAtMultiple({ run: p.run, probe: null }, 1) ?? plateauLevel(p.run.history) ?? end.level;
      const at = `${pct(atL)} at L${k === null ? "" : ` (k = ${k} of ${s.M} on the held-out checks)`}`;
      const others = roseOut.filter((r) => r.p !== p);
      const most = others.reduce((a, b) => b.n > a.n ? b : a, { p, n: 0 });
      if (most.n >= lengthOf(end)) {
        out.push(
          `Seed ${p.run.config.seed} stopped at ${at} after ${steps(lengthOf(end))} flat steps, no longer than the ` +
            `${steps(most.n)} steps seed ${most.p.run.config.seed} stayed flat before rising: its ` +
            `"plateaued" at ${steps(p.run.stepsRun)} steps only means no 2-point gain in the last fifth of its ` +
            `checks, not evidence that more steps would not lift it.`,
        );
      } else if (others.length > 0) {
        out.push(
          `Seed ${p.run.config.seed} has been flat at ${at} for ${steps(lengthOf(end))} steps, longer than any ` +
            `stair another seed rose out of (${steps(most.n)} steps): the firmest plateau these runs show.`,
        );
      }
    }
    return out;
  });
