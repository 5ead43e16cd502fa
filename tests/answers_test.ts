/**
 * The mechanism claims behind each sub-question's answer are conditioned on the data: for every claim, a
 * fixture in which the numbers support it gets the sentence, and the same fixture with the numbers changed
 * makes it disappear or flip to the opposite reading.
 */
import assert from "node:assert/strict";
import type { InitScheme, ModelName } from "../lib/training/config.ts";
import type { RunResult } from "../lib/store/results.ts";
import type { HistoryPoint } from "../lib/training/record.ts";
import type { ProbeResult } from "../lib/probes/probe_run.ts";
import { groupSeries } from "../lib/site/series.ts";
import { evidenceOf } from "../lib/site/evidence.ts";
import { nameFieldsOf } from "../lib/site/view.ts";
import type { Claim } from "../lib/site/answers.ts";
import { answerGroups } from "../lib/site/answers.ts";
import {
  hybridLookupClaim,
  lagHeadClaim,
  learnedPositionsClaim,
  noPositionsClaim,
  ropeOffsetsClaim,
} from "../lib/site/claims/attention_claims.ts";
import {
  delayWindowClaim,
  perQueryClaim,
  queriesClaim,
  recurrenceClaim,
  widthClaim,
} from "../lib/site/claims/mamba_claims.ts";
import { fastestClaim, shortLengthClaim } from "../lib/site/claims/training_claims.ts";
import { architecturesClaim, capacityClaim } from "../lib/site/claims/recall_claims.ts";
import { stairsClaim } from "../lib/site/claims/training_claims.ts";
import { paperSentence } from "../lib/site/paper_table.ts";
import { FIXTURE_L, fixtureRun } from "./fixtures/results_fixture.ts";
import { fixtureProbe, type ProbeSpec } from "./fixtures/probe_fixture.ts";

const L = FIXTURE_L;

interface Spec {
  readonly model: ModelName;
  readonly tau?: number;
  readonly M?: number;
  readonly d?: number;
  readonly seed?: number;
  /** Accuracy below L/4, at L and below, at 2L, at 3L. */
  readonly short?: number;
  readonly atL?: number;
  readonly at2L?: number;
  readonly at3L?: number;
  readonly converged?: number | null;
  readonly probe?: ProbeSpec;
  /** Config fields to set (the recipe: heads, lr, init). */
  readonly recipe?: { readonly heads: number; readonly lr: number; readonly init: InitScheme };
  /** A held-out history, checked every 50 steps to `end`: [first step, accuracy] of each level in turn. */
  readonly history?: { readonly levels: readonly (readonly [number, number])[]; readonly end: number };
}

/** Held-out checks every 50 steps through `end`, at the level whose first step was last passed. */
function historyOf(h: NonNullable<Spec["history"]>): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  for (let step = 50; step <= h.end; step += 50) {
    const level = h.levels.filter(([from]) => from <= step).at(-1)?.[1] ?? h.levels[0][1];
    out.push({ step, loss: 1, accuracy: level });
  }
  return out;
}

/** A run whose accuracy curve is a step function of the given levels, and its probe. */
function make(spec: Spec): { run: RunResult; probe: ProbeResult | null } {
  const base = fixtureRun({ model: spec.model, M: spec.M ?? 1, d: spec.d ?? 8, tau: spec.tau ?? 1, seed: spec.seed });
  const atL = spec.atL ?? 1;
  const level = (l: number) =>
    l <= L / 4 ? (spec.short ?? atL) : l <= L ? atL : l <= 2 * L ? (spec.at2L ?? atL) : (spec.at3L ?? spec.at2L ?? atL);
  const run: RunResult = {
    ...base,
    key: `${base.key}-${spec.seed ?? 0}`,
    accuracyByLength: base.accuracyByLength.map((a) => ({ ...a, accuracy: level(a.length) })),
    convergedStep: spec.converged === undefined ? 500 : spec.converged,
    status: spec.converged === null ? "cap" : "converged",
    verdict: spec.converged === null ? "plateaued" : "converged",
    ...(spec.history === undefined ? {} : { history: historyOf(spec.history), stepsRun: spec.history.end }),
    ...(spec.recipe === undefined ? {} : { config: { ...base.config, ...spec.recipe } }),
  };
  return { run, probe: spec.probe === undefined ? null : fixtureProbe(run, spec.probe) };
}

function say(claim: Claim, specs: readonly Spec[]): string {
  const made = specs.map(make);
  const series = groupSeries(made.map((m) => m.run));
  const probes = new Map(made.filter((m) => m.probe !== null).map((m) => [m.run.key, m.probe!]));
  return claim(evidenceOf(series, probes, nameFieldsOf(series, null))).join(" ");
}

const seeds = (spec: Spec, n = 3): Spec[] => Array.from({ length: n }, (_, seed) => ({ ...spec, seed }));

Deno.test("learned positions: the break after L is blamed on untrained rows only when the induction score falls", () => {
  const breaks = say(learnedPositionsClaim, [
    { model: "tf-learned", at2L: 0.1, probe: { induction: { 1: 0.98, 2: 0.02, 3: 0.01 } } },
  ]);
  assert.match(breaks, /falls from 100% at L = 32 to 10% at 2L/);
  assert.match(breaks, /never received a gradient/);
  const lookupKept = say(learnedPositionsClaim, [
    { model: "tf-learned", at2L: 0.1, probe: { induction: { 1: 0.98, 2: 0.9, 3: 0.9 } } },
  ]);
  assert.match(lookupKept, /still puts 0.90/);
  assert.doesNotMatch(lookupKept, /no longer finds the value/);
  assert.equal(say(learnedPositionsClaim, [{ model: "tf-learned", at2L: 0.95 }]), "", "no break: no claim");
});

Deno.test("RoPE: the lag head is said to survive only when its score holds at 3L", () => {
  const probe = { lag: { 1: 0.6, 2: 0.55, 3: 0.5 }, induction: { 1: 0.9, 2: 0.6, 3: 0.3 } } as const;
  const kept = say(ropeOffsetsClaim, [{ model: "tf-rope", at2L: 0.7, at3L: 0.3, probe }]);
  assert.match(kept, /falls beyond L/);
  assert.match(kept, /survives \(lag-τ score 0.60 at L, 0.50 at 3L\)/);
  const faded = say(ropeOffsetsClaim, [
    { model: "tf-rope", at2L: 0.7, at3L: 0.3, probe: { ...probe, lag: { 1: 0.6, 2: 0.2, 3: 0.1 } } },
  ]);
  assert.doesNotMatch(faded, /survives/);
  const holds = say(ropeOffsetsClaim, [{ model: "tf-rope", at2L: 0.99, at3L: 0.95, probe }]);
  assert.match(holds, /keeps ≥ 90% up to 3L/);
  assert.doesNotMatch(holds, /falls beyond L/);
  const distance = say(ropeOffsetsClaim, [{
    model: "tf-rope",
    at3L: 0.3,
    probe: { ...probe, at3L: { near: 0.8, far: 0.2 } },
  }]);
  assert.match(distance, /worse when the two queries are more than L apart \(20%\) than within L \(80%\)/);
  const noDistance = say(ropeOffsetsClaim, [
    { model: "tf-rope", at3L: 0.3, probe: { ...probe, at3L: { near: 0.5, far: 0.5 } } },
  ]);
  assert.doesNotMatch(noDistance, /more than L apart/);
  assert.equal(say(ropeOffsetsClaim, [{ model: "tf-rope", atL: 0.3 }]), "", "not learned: nothing to explain");
});

Deno.test("NoPE: 'fails by position' flips with the near/far split; 'no lag head' needs a near-uniform score", () => {
  const late = say(noPositionsClaim, [{ model: "tf-nope", at3L: 0.5, probe: { at3L: { near: 0.3, far: 0.8 } } }]);
  assert.match(late, /fails by position more than by distance/);
  assert.equal(
    say(noPositionsClaim, [{ model: "tf-nope", at3L: 0.5, probe: { at3L: { near: 0.8, far: 0.3 } } }]),
    "",
  );
  const induction = { 1: 0.1, 2: 0.1, 3: 0.1 } as const;
  const uniform = say(noPositionsClaim, [
    { model: "tf-nope", tau: 5, atL: 0.2, converged: null, probe: { induction, lag: { 1: 0.04, 2: 0.03, 3: 0.02 } } },
  ]);
  assert.match(uniform, /does not learn the task within/);
  assert.match(uniform, /no head singles out the token τ = 5 positions back/);
  const sharp = say(noPositionsClaim, [
    { model: "tf-nope", tau: 5, atL: 0.2, converged: null, probe: { induction, lag: { 1: 0.5, 2: 0.4, 3: 0.3 } } },
  ]);
  assert.match(sharp, /does not learn the task within/);
  assert.doesNotMatch(sharp, /no head singles out/);
});

Deno.test("a lag-τ head is claimed only when its score is well above uniform", () => {
  const probe = (lag: number): ProbeSpec => ({
    induction: { 1: 0.9, 2: 0.1, 3: 0.1 },
    lag: { 1: lag, 2: lag, 3: lag },
  });
  assert.match(say(lagHeadClaim, [{ model: "tf-learned", tau: 5, probe: probe(0.3) }]), /formed a lag-τ head/);
  assert.equal(say(lagHeadClaim, [{ model: "tf-learned", tau: 5, probe: probe(0.05) }]), "");
  assert.equal(say(lagHeadClaim, [{ model: "tf-learned", tau: 1, probe: probe(0.3) }]), "", "only at a delay");
});

Deno.test("the Hybrid's length-free lookup needs seeds that hold to 3L and an induction score that holds", () => {
  const holds = say(hybridLookupClaim, seeds({ model: "hybrid", probe: { induction: { 1: 0.8, 2: 0.8, 3: 0.8 } } }));
  assert.match(holds, /stays ≥ 90% up to 3L on all 3 seeds/);
  assert.match(holds, /nothing in the lookup depends on length/);
  const fades = say(hybridLookupClaim, [{ model: "hybrid", probe: { induction: { 1: 0.8, 2: 0.5, 3: 0.3 } } }]);
  assert.doesNotMatch(fades, /nothing in the lookup depends on length/);
  const mixed = say(hybridLookupClaim, [{ model: "hybrid", seed: 0 }, { model: "hybrid", seed: 1, at3L: 0.35 }]);
  assert.match(mixed, /on 1 of 2 seeds/);
  assert.match(mixed, /On the other seed that learned it, it falls to 35% at 3L/);
  const unlearned = say(hybridLookupClaim, [
    { model: "hybrid", seed: 0 },
    { model: "hybrid", seed: 1, atL: 0.09 },
    { model: "hybrid", seed: 2, atL: 0.08 },
  ]);
  assert.match(unlearned, /On the other 2 seeds it did not learn the task \(8–9% at L\)/);
  assert.doesNotMatch(unlearned, /falls to/);
  assert.equal(say(hybridLookupClaim, [{ model: "hybrid", at3L: 0.35 }]), "", "no seed holds: no claim");
});

Deno.test("Mamba: forgetting is blamed for a fall beyond L only when the failing seed's retention is lower", () => {
  const forgets = say(recurrenceClaim, [
    { model: "mamba", seed: 0, probe: { retention: 0.9 } },
    { model: "mamba", seed: 1, at3L: 0.4, probe: { retention: 0.3 } },
  ]);
  assert.match(forgets, /stays ≥ 90% up to 3L on 1 of 2 seeds/);
  assert.match(forgets, /lets go of the value sooner/);
  const keeps = say(recurrenceClaim, [
    { model: "mamba", seed: 0, probe: { retention: 0.9 } },
    { model: "mamba", seed: 1, at3L: 0.4, probe: { retention: 0.95 } },
  ]);
  assert.match(keeps, /forgetting does not explain the fall/);
  const all = say(recurrenceClaim, seeds({ model: "mamba" }));
  assert.match(all, /on all 3 seeds/);
  assert.doesNotMatch(all, /falls to/);
});

Deno.test("a delay beyond the convolution window: 'more steps on every seed' only when the ranges do not overlap", () => {
  const slower = say(delayWindowClaim, [
    ...seeds({ model: "mamba", tau: 1, converged: 1000 }),
    ...seeds({ model: "mamba", tau: 5, converged: 3000 }),
  ]);
  assert.match(slower, /beyond the reach of the 4-tap convolution/);
  assert.match(slower, /more steps on every seed/);
  const overlap = say(delayWindowClaim, [
    { model: "mamba", tau: 1, seed: 0, converged: 1000 },
    { model: "mamba", tau: 1, seed: 1, converged: 4000 },
    { model: "mamba", tau: 5, seed: 0, converged: 3000 },
  ]);
  assert.doesNotMatch(overlap, /every seed/);
  assert.equal(
    say(delayWindowClaim, [{ model: "mamba", tau: 1 }, { model: "mamba", tau: 3 }]),
    "",
    "τ = 3 fits inside the window",
  );
});

Deno.test("more queries: 'accuracy falls as M grows' flips to 'holds' with the numbers", () => {
  const falls = say(queriesClaim, [
    { model: "mamba", M: 4, atL: 0.99 },
    { model: "mamba", M: 16, atL: 0.2 },
  ]);
  assert.match(falls, /falls as M grows \(99% at M = 4, 20% at M = 16\)/);
  const holds = say(queriesClaim, [{ model: "mamba", M: 4, atL: 0.99 }, { model: "mamba", M: 16, atL: 0.98 }]);
  assert.match(holds, /holds as M grows/);
  const unclear = say(queriesClaim, [
    { model: "mamba", M: 4, seed: 0, atL: 0.6 },
    { model: "mamba", M: 4, seed: 1, atL: 0.99 },
    { model: "mamba", M: 16, seed: 0, atL: 0.7 },
    { model: "mamba", M: 16, seed: 1, atL: 0.3 },
  ]);
  assert.doesNotMatch(unclear, /falls as M grows/);
  assert.match(unclear, /not clearly \(M = 4 higher on 1 of 2 seeds\)/);
  const some = say(perQueryClaim, [{ model: "mamba", M: 4, atL: 0.5, probe: { queries: [1, 1, 0.1, 0.05] } }]);
  assert.match(some, /finds 2 of the 4 queries answered at ≥ 90%/);
  assert.equal(say(perQueryClaim, [{ model: "mamba", M: 4, atL: 0.5, probe: { queries: [0.5, 0.5, 0.5, 0.5] } }]), "");
});

Deno.test("stairs: a seed that stopped on a stair 'only means no 2-point gain', one flat for longer is 'the firmest plateau'", () => {
  const chance = 1 / 16, k1 = 0.25 + 0.75 / 16, k2 = 0.5 + 0.5 / 16, k3 = 0.75 + 0.25 / 16;
  const risen: Spec = {
    model: "mamba",
    M: 4,
    seed: 1,
    converged: 19500,
    history: { levels: [[0, chance], [2000, k1], [5000, k2], [15000, k3], [19000, 1]], end: 19500 },
  };
  const onStair = say(stairsClaim, [
    {
      model: "mamba",
      M: 4,
      seed: 0,
      atL: k3,
      converged: null,
      history: { levels: [[0, chance], [2000, k1], [6000, k2], [12000, k3]], end: 20000 },
    },
    risen,
  ]);
  assert.match(onStair, /learns the queries one at a time/);
  assert.match(onStair, /29.7% \(k = 1\), 53.1% \(k = 2\)/);
  assert.match(
    onStair,
    /Seed 0 stopped at 76.6% at L \(k = 3 of 4 on the held-out checks\) after 7,900 flat steps, no longer than the 9,950 steps seed 1/,
  );
  assert.match(onStair, /only means no 2-point gain in the last fifth of its checks/);
  const stuck = say(stairsClaim, [
    {
      model: "mamba",
      M: 4,
      seed: 0,
      converged: null,
      history: { levels: [[0, chance], [2000, k1], [6000, k2]], end: 20000 },
    },
    risen,
  ]);
  assert.match(stuck, /Seed 0 has been flat at .* for 13,900 steps, longer than any stair another seed rose out of/);
  assert.doesNotMatch(stuck, /only means no 2-point gain/);
  const climb: Spec = {
    model: "mamba",
    M: 4,
    seed: 0,
    converged: null,
    history: { levels: Array.from({ length: 400 }, (_, i) => [i * 50, chance + i * 0.002] as const), end: 20000 },
  };
  assert.equal(say(stairsClaim, [climb]), "", "a steady climb has no stairs");
});

Deno.test("width: the verdict follows the accuracy at L and at 3L", () => {
  const at = (d: number, atL: number, at3L: number): Spec => ({ model: "mamba", M: 8, d, atL, at3L });
  assert.match(say(widthClaim, [at(8, 0.5, 0.4), at(64, 1, 0.9)]), /the wider model recalls more at L/);
  assert.match(say(widthClaim, [at(8, 0.99, 0.5), at(64, 0.99, 0.97)]), /keeps more beyond it/);
  assert.match(say(widthClaim, [at(8, 0.99, 0.97), at(64, 0.99, 0.97)]), /no clear difference/);
  assert.match(say(widthClaim, [at(8, 0.99, 0.97), at(64, 0.5, 0.4)]), /the narrower model does better/);
  const mixed = say(widthClaim, [
    { ...at(8, 0.5, 0.4), seed: 0 },
    { ...at(8, 0.99, 0.9), seed: 1 },
    { ...at(64, 0.99, 0.9), seed: 0 },
    { ...at(64, 0.9, 0.8), seed: 1 },
  ]);
  assert.doesNotMatch(mixed, /the wider model recalls more/, "higher on average, not on every seed");
  assert.match(mixed, /no difference the seeds agree on \(at L d = 64 higher on 1 of 2 seeds/);
});

Deno.test("capacity: d = 8 fails 'by capacity' only when d = 64 solves the same setting", () => {
  const at = (d: number, atL: number): Spec => ({ model: "tf-rope", M: 8, d, atL });
  assert.match(say(capacityClaim, [at(8, 0.1), at(64, 0.99)]), /fails by capacity/);
  assert.match(say(capacityClaim, [at(8, 0.1), at(64, 0.3)]), /width alone is not the limit/);
  assert.match(say(capacityClaim, [at(8, 0.95), at(64, 0.99)]), /already suffices/);
  const some = say(capacityClaim, [
    { model: "tf-rope", M: 8, d: 8, seed: 0, atL: 0.99 },
    { model: "tf-rope", M: 8, d: 8, seed: 1, atL: 0.1 },
    { model: "tf-rope", M: 8, d: 64, seed: 0, atL: 0.99 },
    { model: "tf-rope", M: 8, d: 64, seed: 1, atL: 0.99 },
  ]);
  assert.doesNotMatch(some, /fails by capacity/);
  assert.match(some, /training finds it on only 1 of 2/);
});

Deno.test("architectures at each M: '>' only where the comparison rule allows it", () => {
  const clear = say(architecturesClaim, [
    ...seeds({ model: "hybrid", M: 8, atL: 0.9 }),
    ...seeds({ model: "mamba", M: 8, atL: 0.5 }),
  ]);
  assert.match(clear, /hybrid 90% > mamba 50%/);
  const close = say(architecturesClaim, [{ model: "hybrid", M: 8, atL: 0.51 }, { model: "mamba", M: 8, atL: 0.5 }]);
  assert.match(close, / then /);
  assert.doesNotMatch(close, /≈/);
});

Deno.test("fastest on every seed is claimed only without overlap, with the Hybrid's convolution as the reason", () => {
  const fast = say(fastestClaim, [
    ...seeds({ model: "hybrid", converged: 500 }),
    ...seeds({ model: "mamba", converged: 2000 }),
    ...seeds({ model: "tf-nope", converged: 9000 }),
  ]);
  assert.match(fast, /hybrid converges fastest on every seed/);
  assert.match(fast, /4-tap convolution already sees the token τ back/);
  assert.match(fast, /tf-nope is slowest on every seed/);
  const overlap = say(fastestClaim, [
    { model: "hybrid", seed: 0, converged: 500 },
    { model: "hybrid", seed: 1, converged: 2500 },
    { model: "mamba", seed: 0, converged: 2000 },
  ]);
  assert.match(overlap, /no model converges fastest on every seed/);
});

Deno.test("short lengths: the failure is 'the length itself' or 'a query at the start' as the probe says", () => {
  const length = say(shortLengthClaim, [
    { model: "tf-nope", short: 0.05, probe: { short: { first: 0.05, rest: 0.06 } } },
    { model: "mamba" },
  ]);
  assert.match(length, /tf-nope at 5% is under 50%/);
  assert.match(length, /mamba does not fail there/);
  assert.match(length, /it is the length itself/);
  const start = say(shortLengthClaim, [{ model: "tf-nope", short: 0.3, probe: { short: { first: 0.05, rest: 0.6 } } }]);
  assert.match(start, /come from a first query at position 0/);
  assert.equal(say(shortLengthClaim, [{ model: "tf-nope", short: 0.95 }]), "", "no short-length failure: no claim");
});

Deno.test("the paper comparison states the order it finds, reversed or unclear", () => {
  const made = (mamba: number, rope: number, learned: number) => {
    const runs = [
      ...seeds({ model: "mamba", at2L: mamba }),
      ...seeds({ model: "tf-rope", at2L: rope }),
      ...seeds({ model: "tf-learned", at2L: learned }),
    ].map((s) => make(s).run);
    const series = groupSeries(runs);
    return paperSentence(evidenceOf(series, new Map(), ["model"]), series) ?? "";
  };
  assert.match(made(1, 0.6, 0.2), /Mamba > RoPE holds here; RoPE > absolute holds/);
  assert.match(made(0.3, 0.6, 0.9), /Mamba > RoPE is reversed here; RoPE > absolute is reversed/);
});

Deno.test("a sub-question whose claims all say nothing says so instead of staying blank", () => {
  const series = groupSeries([make({ model: "mamba" }).run]);
  const groups = answerGroups(
    [{ question: "(x)", claims: [learnedPositionsClaim] }],
    evidenceOf(series, new Map(), ["model"]),
  );
  assert.deepEqual(groups[0].sentences, ["Not enough finished runs yet to answer this."]);
  assert.equal(groups[0].paragraph, true);
});

Deno.test("a problem page's answers read the probes its context carries", async () => {
  const { page: problem } = await import("../lib/site/pages/p1.ts");
  const { fixtureResults } = await import("./fixtures/results_fixture.ts");
  const results = fixtureResults("p1");
  const learned = results.runs.filter((r) => r.config.model === "tf-learned" && r.config.tau === 1);
  const probes = new Map(
    learned.map((r) => [r.key, fixtureProbe(r, { induction: { 1: 0.97, 2: 0.03, 3: 0.01 } })] as const),
  );
  const answers = (probes: ReadonlyMap<string, ProbeResult>) =>
    problem.view(results, { results: new Map(), probes }).parts.find((p) => p.id === "p1-answers")!.findings
      .flatMap((g) => g.sentences).join(" ");
  assert.match(answers(probes), /puts 0.97 of the final query's weight on the value at L but 0.03 at 2L/);
  assert.doesNotMatch(answers(new Map()), /final query's weight/, "without probes no probe number is quoted");
});
