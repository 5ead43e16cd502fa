/**
 * Mechanism claims about the recurrent models: why Mamba's accuracy does (or does not) carry beyond L, what a
 * delay longer than its convolution window costs, and how the number of queries M and the width d meet the
 * fixed-size state. Sentences quote the runs and the probes and are dropped when the numbers disagree.
 */
import { mean } from "../../stats/mean.ts";
import type { Claim } from "../answers.ts";
import {
  accuracyAtMultiple,
  architectureOf,
  configOf,
  convergedStepsOf,
  holdsBeyondL,
  pctRange,
  queriesLearned,
  rangeText,
  retentionBeyond2L,
  type Seed,
  seedCount,
  seedsOf,
  valuesOver,
} from "../evidence.ts";
import { groupsAcross, HOLD } from "../findings.ts";
import type { Series } from "../series.ts";
import { caveatOf, compareAt } from "../comparison.ts";
import { fieldText, listText, pct, steps } from "../format.ts";
import { endingOf } from "../ending.ts";

/** Pure Mamba: which seeds keep their accuracy to 3L, and whether the state's memory tells them apart. */
export const recurrenceClaim: Claim = (e) =>
  e.series.filter((s) => architectureOf(s) === "mamba").flatMap((s) => {
    const seeds = seedsOf(e, s).filter((x) => (accuracyAtMultiple(x, 1) ?? 0) >= HOLD);
    if (seeds.length === 0) return [];
    const holds = seeds.filter((x) => holdsBeyondL(x, HOLD)), falls = seeds.filter((x) => !holdsBeyondL(x, HOLD));
    const out: string[] = [];
    const ret = (xs: Seed[]) => valuesOver(xs, retentionBeyond2L);
    if (holds.length > 0) {
      const r = ret(holds);
      out.push(
        `${e.name(s)} stays ≥ ${pct(HOLD)} up to 3L${seedCount(holds.length, seeds.length)}: its selective scan ` +
          `applies the same input-dependent update at every position and has no position table, so what it ` +
          `learned at L is not tied to positions ≤ L${
            r.length === 0 ? "" : `; its best state channel still holds ${rangeText(r)} of the value's write at ` +
              `distances beyond 2L`
          }.`,
      );
    }
    if (falls.length > 0) {
      const seedsText = falls.map((x) => String(x.run.config.seed));
      const rf = ret(falls), rh = ret(holds);
      const memory = rf.length === 0 || rh.length === 0
        ? ""
        : Math.max(...rf) < Math.min(...rh)
        ? ` Its state lets go of the value sooner (retention beyond 2L ${rangeText(rf)}, against ${
          rangeText(rh)
        } on the seeds that hold), so the recurrence forgets over lengths it was never trained to span.`
        : ` Its state keeps as much of the value as on the seeds that hold (retention beyond 2L ${
          rangeText(rf)
        } against ${rangeText(rh)}), so forgetting does not explain the fall.`;
      out.push(
        `With seed${falls.length === 1 ? "" : "s"} ${listText(seedsText)} ${e.name(s)} falls to ${
          pctRange(valuesOver(falls, (x) => accuracyAtMultiple(x, 3)))
        } at 3L although ≥ ${pct(HOLD)} at L: length generalisation is not guaranteed by the architecture, it ` +
          `depends on the solution training found.${memory}`,
      );
    }
    return out;
  });

/** Steps to converge as words: "1,250–3,000", or how the seeds that did not converge ended. */
function stepsText(s: Series): string {
  const c = convergedStepsOf(s);
  if (c !== null) return rangeText(c, steps);
  const endings = [...new Set(s.runs.filter((r) => r.convergedStep === null).map(endingOf))];
  const n = s.runs.filter((r) => r.convergedStep !== null).length;
  return `${n === 0 ? "" : `${n} of ${s.runs.length} seeds converged, the others `}${listText(endings)}`;
}

/**
 * A delay longer than the convolution window: with τ ≥ the conv width the query and its value never meet in
 * one convolution, so the scan must carry the query until the value arrives.
 */
export const delayWindowClaim: Claim = (e) =>
  groupsAcross(e.series.filter((s) => architectureOf(s) !== "attention"), "tau").flatMap((g) => {
    const short = g[0], long = g[g.length - 1];
    const w = configOf(short).convWidth;
    if (!(short.tau < w && long.tau >= w)) return [];
    const a = convergedStepsOf(short), b = convergedStepsOf(long);
    const slower = a !== null && b !== null && Math.min(...b) > Math.max(...a);
    const at = (s: Series, k: number) => pctRange(valuesOver(seedsOf(e, s), (x) => accuracyAtMultiple(x, k)));
    const cost = slower
      ? `it needs more steps on every seed (${stepsText(short)} at τ = ${short.tau}, ${
        stepsText(long)
      } at τ = ${long.tau})`
      : `steps to converge: ${stepsText(short)} at τ = ${short.tau}, ${stepsText(long)} at τ = ${long.tau}`;
    return [
      `${
        e.name(long, ["tau"])
      }: at τ = ${long.tau} the value lies beyond the reach of the ${w}-tap convolution (it sees ` +
      `at most ${w - 1} positions back), so the query has to be carried in the recurrent state until the value ` +
      `arrives; ${cost}; accuracy at L ${at(short, 1)} → ${at(long, 1)}, at 3L ${at(short, 3)} → ${at(long, 3)}.`,
    ];
  });

/** The recurrent state of a series: e × n numbers per layer. */
function stateText(s: Series): string {
  const c = configOf(s);
  return `${c.mambaInner} × ${c.mambaState} = ${steps(c.mambaInner * c.mambaState)}`;
}

/** More queries into one fixed-size state: how Mamba's accuracy at L moves with M. */
export const queriesClaim: Claim = (e) =>
  groupsAcross(e.series.filter((s) => architectureOf(s) === "mamba" && s.M > 1), "M").flatMap((g) => {
    const at = (s: Series) => valuesOver(seedsOf(e, s), (x) => accuracyAtMultiple(x, 1));
    const means = g.map((s) => mean(at(s)));
    if (means.some((m) => m === null)) return [];
    const first = g[0], last = g[g.length - 1];
    const drop = (means[0] as number) - (means[means.length - 1] as number);
    const c = compareAt(first, last, first.L);
    const path = g.map((s) => `${pctRange(at(s))} at ${fieldText("M", s.M)}`).join(", ");
    const name = e.name(last, ["M"]);
    if (drop <= 0.05) {
      return [
        `${name}: accuracy at L holds as M grows (${path}): its recurrent state (${stateText(first)} numbers per ` +
        `layer) is large enough for ${last.M} queries.`,
      ];
    }
    if (c === null || c.winner !== "a") {
      const why = c === null ? "" : ` (${caveatOf(c, [fieldText("M", first.M), fieldText("M", last.M)])})`;
      return [
        `${name}: accuracy at L is lower on average with ${fieldText("M", last.M)} than with ` +
        `${fieldText("M", first.M)} (${path}), but not clearly${why}: the seeds vary more than M does.`,
      ];
    }
    return [
      `${name}: accuracy at L falls as M grows (${path}). Every query token that may be asked needs ` +
      `its value kept in the recurrent state (${stateText(first)} numbers per layer) until the end, and ` +
      `with M queries the state must be ready for any of them.`,
    ];
  });

/** Which of the M queries a model answers (the per-query probe): some solved fully, or all alike. */
export const perQueryClaim: Claim = (e) =>
  e.series.filter((s) => s.M > 1).flatMap((s) => {
    const q = seedsOf(e, s).map((x) => queriesLearned(x, HOLD)).filter((v) => v !== null);
    if (q.length === 0) return [];
    const some = q.filter((v) => v.learned > 0 && v.learned < v.of);
    if (some.length === 0) return [];
    return [
      `${e.name(s)}: the per-query probe finds ${rangeText(some.map((v) => v.learned), String)} of the ${s.M} ` +
      `queries answered at ≥ ${pct(HOLD)} at L${seedCount(some.length, q.length)}, the others lower: its ` +
      `accuracy is the share of queries it solved, not a uniform uncertainty over all of them.`,
    ];
  });

/** The width d: accuracy at L and 3L per setting, and what a wider model has: state size, room for K embeddings. */
export const widthClaim: Claim = (e) => {
  const groups = groupsAcross(e.series.filter((s) => architectureOf(s) === "mamba"), "d");
  const at = (s: Series, k: number) => valuesOver(seedsOf(e, s), (x) => accuracyAtMultiple(x, k));
  const avg = (s: Series, k: number) => mean(at(s, k)) ?? 0;
  const pairs = groups.map((g) => ({ narrow: g[0], wide: g[g.length - 1] }))
    .filter(({ narrow, wide }) => at(narrow, 1).length > 0 && at(wide, 1).length > 0);
  if (pairs.length === 0) return [];
  const out = pairs.map(({ narrow, wide }) => {
    const gainL = avg(wide, 1) - avg(narrow, 1), gain3 = avg(wide, 3) - avg(narrow, 3);
    // A difference counts when it is material (over 5 points) and the comparison rule supports it.
    const cL = compareAt(wide, narrow, wide.L), c3 = compareAt(wide, narrow, 3 * wide.L);
    const wins = (c: typeof cL, who: "a" | "b") => c !== null && c.winner === who;
    const names = [fieldText("d", wide.d), fieldText("d", narrow.d)] as const;
    const unclear = ([["at L", cL], ["at 3L", c3]] as const)
      .filter(([, c]) => c !== null && c.winner === "tie" && Math.abs(c.a.mean - c.b.mean) > 0.05)
      .map(([at, c]) => `${at} ${caveatOf(c!, names)}`);
    const verdict = gainL > 0.05 && wins(cL, "a")
      ? "the wider model recalls more at L"
      : gain3 > 0.05 && wins(c3, "a")
      ? "both are close at L, but the wider model keeps more beyond it"
      : (gainL < -0.05 && wins(cL, "b")) || (gain3 < -0.05 && wins(c3, "b"))
      ? "the narrower model does better"
      : unclear.length > 0
      ? `no difference the seeds agree on (${unclear.join("; ")})`
      : "width makes no clear difference";
    return `${e.name(wide, ["d"])}: accuracy at L ${pctRange(at(narrow, 1))} with d = ${narrow.d}, ${
      pctRange(at(wide, 1))
    } with d = ${wide.d}; at 3L ${pctRange(at(narrow, 3))} → ${pctRange(at(wide, 3))}: ${verdict}.`;
  });
  const { narrow, wide } = pairs[0];
  const room = narrow.K > narrow.d && wide.K <= wide.d
    ? ` and K = ${wide.K} random unit embeddings fit nearly orthogonally in d = ${wide.d} dimensions but not in ` +
      `d = ${narrow.d}, where tokens overlap`
    : "";
  out.push(
    `A wider Mamba carries a larger state, ${stateText(wide)} numbers per layer at d = ${wide.d} against ${
      stateText(narrow)
    } at d = ${narrow.d}${room}.`,
  );
  return out;
};
