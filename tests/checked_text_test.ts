import assert from "node:assert/strict";
import { CheckedTextError, evaluate, fill, parseExpression, sentenceAround } from "../lib/site/checked_text.ts";
import { ANSWER_FORMATS, answerFunctions } from "../lib/site/answer_functions.ts";
import type { RunResult } from "../lib/store/results.ts";
import { fixtureResults, fixtureRun } from "./fixtures/results_fixture.ts";
import { fixtureProbe } from "./fixtures/probe_fixture.ts";

const LAG = { 1: 0.8, 2: 0.7, 3: 0.6 } as const;

/** Three Mamba seeds whose accuracy at 3L is set by hand, and one RoPE seed. */
function runs(at3L: readonly number[]): RunResult[] {
  const mamba = at3L.map((acc, seed) => {
    const r = fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed });
    const L3 = 3 * r.config.L;
    return { ...r, accuracyByLength: r.accuracyByLength.map((p) => p.length === L3 ? { ...p, accuracy: acc } : p) };
  });
  return [...mamba, fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed: 0, status: "cap" })];
}

const TEXT = 'Mamba keeps {{ acc(model="mamba", at="3L") | range }} at 3L ' +
  '{{ check: min(acc(model="mamba", at="3L")) >= 0.9 }}on every seed. RoPE is another story.';

Deno.test("a template's numbers come from the runs and its checks render nothing when they hold", () => {
  const out = fill(TEXT, "p1/answers.md", answerFunctions(runs([0.95, 1, 0.97])), ANSWER_FORMATS);
  assert.equal(out, "Mamba keeps 97.3% [95–100%] at 3L on every seed. RoPE is another story.");
});

Deno.test("a check that the data no longer supports fails the build, naming the file, the sentence and the values", () => {
  assert.throws(
    () => fill(TEXT, "p1/answers.md", answerFunctions(runs([0.95, 0.5, 0.97])), ANSWER_FORMATS),
    (e: Error) => {
      assert.ok(e instanceof CheckedTextError);
      assert.match(e.message, /^p1\/answers\.md: the check .* does not hold \(0\.5 >= 0\.9\)/);
      assert.match(e.message, /in the sentence "Mamba keeps … at 3L …on every seed\."/);
      return true;
    },
  );
});

Deno.test("a selection that matches no run, or several settings, is an error, never a number", () => {
  const fns = answerFunctions(runs([1, 1, 1]));
  assert.throws(
    () => fill('{{ mean(acc(model="mamba", tau=5)) | pct }}.', "x", fns, ANSWER_FORMATS),
    /no runs with model="mamba", tau=5/,
  );
  assert.throws(() => fill("{{ mean(acc()) | pct }}.", "x", fns, ANSWER_FORMATS), /matches 2 settings/);
  assert.throws(
    () => fill('{{ acc(model="mamba", at="3L") }}.', "x", fns, ANSWER_FORMATS),
    /needs a format or a reduction/,
  );
  assert.throws(() => fill('{{ acc(model="mamba") | nope }}.', "x", fns, ANSWER_FORMATS), /no format "nope"/);
  assert.throws(() => fill('{{ check: acc(model="mamba") }}.', "x", fns, ANSWER_FORMATS), /not true\/false/);
  assert.throws(() => fill('{{ mean(conv(model="tf-rope")) | steps }}.', "x", fns, ANSWER_FORMATS), /missing seeds/);
});

Deno.test("counts, convergence steps and arithmetic over seeds", () => {
  const fns = answerFunctions(runs([1, 1, 0.2]));
  const text = '{{ count_at_least(acc(model="mamba", at="3L"), 0.99) }} of {{ seeds(model="mamba") }} seeds; ' +
    '{{ converged(model="tf-rope") }} RoPE; {{ (1 - 0.25) * 2 | pct }}; {{ 0.9 - 0.568 | points }}; ' +
    "{{ check: not (1 > 2) and (2 >= 2 or false) }}";
  assert.equal(fill(text, "x", fns, ANSWER_FORMATS), "2 of 3 seeds; 0 RoPE; 150%; 33.2 points; ");
  const params = runs([1, 1, 1])[0].paramCount;
  assert.equal(
    fill('{{ max(params(model="mamba")) | steps }}', "x", fns, ANSWER_FORMATS),
    params.toLocaleString("en-US"),
  );
});

Deno.test("the expression parser keeps precedence and refuses what it cannot read", () => {
  assert.equal(evaluate(parseExpression("1 + 2 * 3 - 4 / 2"), {}), 5);
  assert.equal(evaluate(parseExpression("-(1 + 2) < -2 and 3 == 3"), {}), true);
  assert.throws(() => parseExpression("1 +"), /expected more/);
  assert.throws(() => parseExpression("f(a=1, 2)"), /positional argument after named/);
  assert.throws(() => parseExpression("1 $ 2"), /cannot read/);
  assert.throws(() => evaluate(parseExpression("g()"), {}), /no function g\(\)/);
});

Deno.test("the sentence around a placeholder is cut at sentence ends", () => {
  const text = "First one. Second {{ x }} here. Third.";
  assert.equal(sentenceAround(text, text.indexOf("{{")), "Second … here.");
});

Deno.test("probe scores come from the runs' probe files, and a check on them flips with the data", () => {
  const rope = [0, 1].map((seed) => fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed }));
  const probes = (at2L: number) =>
    new Map(rope.map((r) => [r.key, fixtureProbe(r, { induction: { 1: 0.9, 2: at2L, 3: 0.1 }, lag: LAG })]));
  const text = 'Its head puts {{ mean(induction(model="tf-rope", at="L")) | score }} on the value at L and ' +
    '{{ max(induction(model="tf-rope", at="2L")) | score }} at 2L{{ check: max(induction(model="tf-rope", at="2L")) ' +
    '< mean(induction(model="tf-rope")) / 2 }}.';
  const fns = (at2L: number) => answerFunctions(rope, { probes: probes(at2L) });
  assert.equal(fill(text, "x", fns(0.3), ANSWER_FORMATS), "Its head puts 0.90 on the value at L and 0.30 at 2L.");
  assert.throws(() => fill(text, "x", fns(0.6), ANSWER_FORMATS), /does not hold \(0\.6 < 0\.45\)/);
  assert.throws(
    () => fill('{{ mean(induction(model="tf-rope")) | score }}.', "x", answerFunctions(rope), ANSWER_FORMATS),
    /no probe files for tf-rope/,
  );
  const lag = fill('{{ check: min(lag(model="tf-rope")) > 2 * uniform(32, 1) }}ok', "x", fns(0.3), ANSWER_FORMATS);
  assert.equal(lag, "ok");
});

Deno.test("an answer can cite another study's runs by name, and an unknown study is an error", () => {
  const delay = [0, 1, 2].map((seed) => fixtureRun({ model: "mamba", M: 1, d: 8, tau: 7, seed }));
  const studies = new Map([["delay", { ...fixtureResults("p1"), problem: "delay", runs: delay }]]);
  const fns = answerFunctions(runs([1, 1, 1]), { studies });
  assert.equal(
    fill('{{ seeds(study="delay", model="mamba", tau=7) | int }} seeds', "x", fns, ANSWER_FORMATS),
    "3 seeds",
  );
  assert.throws(
    () => fill('{{ seeds(study="state") | int }}', "x", fns, ANSWER_FORMATS),
    /no results of the study "state"/,
  );
});

Deno.test("accuracy far beyond the runs' lengths comes from their long evaluations, final or converged weights", () => {
  const mamba = [0, 1].map((seed) => fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed }));
  const file = (key: string, weights: "final" | "converged", acc: number) => ({
    key,
    weights,
    lengths: [{ length: 2 ** 20, accuracy: acc, samples: 64 }],
    seconds: 1,
  });
  const long = new Map(mamba.map((r, i) => [r.key, {
    final: file(r.key, "final", 0.5 + i / 4),
    converged: file(r.key, "converged", 1),
  }]));
  const fns = answerFunctions(mamba, { long });
  const text = 'At 2^20 tokens: {{ long(model="mamba", at=1048576) | range }}, ' +
    '{{ long(model="mamba", at=1048576, weights="converged") | range }} with the weights kept at 99%.';
  assert.equal(
    fill(text, "x", fns, ANSWER_FORMATS),
    "At 2^20 tokens: 62.5% [50–75%], 100% with the weights kept at 99%.",
  );
  assert.throws(() => fill(text, "x", answerFunctions(mamba), ANSWER_FORMATS), /no long evaluations for mamba/);
});

Deno.test("diff compares two readings seed by seed, so 'on every seed' is checked per seed, not on the extremes", () => {
  const rope = [0, 1].map((seed) => fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed }));
  const at3L = (near: readonly number[], far: readonly number[]) =>
    new Map(rope.map((r, i) => [r.key, fixtureProbe(r, { at3L: { near: near[i], far: far[i] } })]));
  const check = '{{ check: min(diff(near(model="tf-rope"), far(model="tf-rope"))) > 0 }}ok';
  const fns = (near: readonly number[], far: readonly number[]) => answerFunctions(rope, { probes: at3L(near, far) });
  assert.equal(fill(check, "x", fns([0.9, 0.5], [0.6, 0.4]), ANSWER_FORMATS), "ok");
  // the extremes still look fine (max far 0.6 < max near 0.9), but seed 1 has far above near
  assert.throws(() => fill(check, "x", fns([0.9, 0.5], [0.6, 0.55]), ANSWER_FORMATS), /does not hold/);
});

Deno.test("argmin pairs two readings: the seed lowest on one must be the seed lowest on the other", () => {
  const fns = answerFunctions(runs([0.9, 0.6, 1]));
  const check = (other: string) => `{{ check: argmin(acc(model="mamba", at="3L")) == argmin(${other}) }}ok`;
  const lookups = { ...fns, x: () => [0.5, 0.1, 0.7], y: () => [0.1, 0.5, 0.7] };
  assert.equal(fill(check("x()"), "x", lookups, ANSWER_FORMATS), "ok");
  assert.throws(() => fill(check("y()"), "x", lookups, ANSWER_FORMATS), /does not hold \(1 == 0\)/);
  assert.equal(fill('{{ argmax(acc(model="mamba", at="3L")) | int }}', "x", fns, ANSWER_FORMATS), "2");
});

Deno.test("short-length accuracy splits by where the query first occurs, from the probe", () => {
  const rope = [0, 1].map((seed) => fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed }));
  const probes = new Map(
    rope.map((r, i) => [r.key, fixtureProbe(r, { short: { first: i === 0 ? 0.07 : 1, rest: 1 } })]),
  );
  const fns = answerFunctions(rope, { probes });
  const text = '{{ short_first(model="tf-rope") | range }} with the query first, ' +
    '{{ short_rest(model="tf-rope") | range }} elsewhere{{ check: min(short_first(model="tf-rope")) < 0.1 }}.';
  assert.equal(fill(text, "x", fns, ANSWER_FORMATS), "53.5% [7–100%] with the query first, 100% elsewhere.");
});

Deno.test("wrong reads where a seed's wrong answers point, per offset after the query, and needs an offset", () => {
  const nope = [0, 1].map((seed) => fixtureRun({ model: "tf-nope", M: 1, d: 8, tau: 5, seed }));
  const fns = (second: readonly number[]) =>
    answerFunctions(nope, {
      probes: new Map(nope.map((r, i) => [r.key, fixtureProbe(r, { wrong: i === 0 ? [0.3, 0.2, 0] : second })])),
    });
  const text = '{{ wrong(model="tf-nope", offset=1) | range }} at offset 1' +
    '{{ check: min(wrong(model="tf-nope", offset=1)) > 3 * max(wrong(model="tf-nope", offset=3)) }}';
  assert.equal(fill(text, "x", fns([0.2, 0.1, 0]), ANSWER_FORMATS), "25% [20–30%] at offset 1");
  assert.throws(() => fill(text, "x", fns([0.2, 0.1, 0.1]), ANSWER_FORMATS), /does not hold/);
  const one = (t: string) => fill(t, "x", fns([0, 0, 0]), ANSWER_FORMATS);
  assert.throws(() => one('{{ wrong(model="tf-nope") | range }}'), /needs offset=o/);
  assert.throws(() => one('{{ wrong(model="tf-nope", offset=9) | range }}'), /offsets 1 to 3/);
});

Deno.test("a check whose wrapped line starts with > is refused: Markdown would quote the rest of the paragraph", () => {
  const fns = answerFunctions(runs([0.9, 0.6, 1]));
  assert.equal(fill('ok{{ check: min(acc(model="mamba"))\n < 1 }}', "x", fns, ANSWER_FORMATS), "ok");
  assert.throws(
    () => fill('ok{{ check: 1\n> min(acc(model="mamba")) }}', "x", fns, ANSWER_FORMATS),
    /starts with ">"/,
  );
});

Deno.test("queries counts the query tokens a seed answers at L, from the per-query probe; params the weights", () => {
  const mamba = [0, 1].map((seed) => fixtureRun({ model: "mamba", M: 4, d: 8, tau: 1, seed }));
  const probes = new Map(
    mamba.map((r, i) => [r.key, fixtureProbe(r, { queries: i === 0 ? [1, 1, 0.5, 0.1] : [1, 1, 1, 0.95] })]),
  );
  const fns = answerFunctions(mamba, { probes });
  const text =
    '{{ queries(model="mamba", M=4) | counts }} of 4, {{ queries(model="mamba", M=4, above=0.99) | counts }}' +
    ' at 99%{{ check: min(queries(model="mamba", M=4)) < 4 }}';
  assert.equal(fill(text, "x", fns, ANSWER_FORMATS), "3 [2–4] of 4, 2.5 [2–3] at 99%");
  assert.throws(() => fill('{{ queries(model="mamba", M=4) | range }}', "x", fns, ANSWER_FORMATS), /use|counts/);
  assert.equal(
    fill('{{ min(params(model="mamba", M=4)) | int }}', "x", fns, ANSWER_FORMATS),
    String(mamba[0].paramCount),
  );
});

Deno.test("heldout reads a run's held-out accuracy at the last check up to a step", () => {
  const r = runs([1, 1, 1])[0];
  const h = r.history.filter((p) => p.step <= 500).at(-1)!;
  const one = answerFunctions([r]);
  assert.equal(
    fill('{{ min(heldout(model="mamba", step=500)) | score }}', "x", one, ANSWER_FORMATS),
    h.accuracy.toFixed(2),
  );
  const last = r.history.at(-1)!;
  assert.equal(
    fill('{{ min(heldout(model="mamba", step=1e9)) | score }}', "x", one, ANSWER_FORMATS),
    last.accuracy.toFixed(2),
  );
  assert.throws(() => fill('{{ min(heldout(model="mamba")) | pct }}', "x", one, ANSWER_FORMATS), /needs step=N/);
});

Deno.test("a seed list of probe scores formats as scores, one value when the seeds agree", () => {
  assert.equal(ANSWER_FORMATS.scores([0.54, 1, 0.91]), "0.82 [0.54–1.00]");
  assert.equal(ANSWER_FORMATS.scores([0.5, 0.501]), "0.50");
  assert.throws(() => ANSWER_FORMATS.scores([0.5, null]), /missing seeds/);
});

Deno.test("distractors and no_distractors read the same rows with training's fillers and with none from the query set", () => {
  const rope = [0, 1].map((seed) => fixtureRun({ model: "tf-rope", M: 4, d: 8, tau: 1, seed }));
  const fns = (second: number) =>
    answerFunctions(rope, {
      probes: new Map(rope.map((r, i) => [
        r.key,
        fixtureProbe(r, {
          outside: { usual: [1, i === 0 ? 0.5 : second, 0.2], outside: [1, 0.9, 0.6] },
        }),
      ])),
    });
  const text = '{{ distractors(model="tf-rope") | range }} against {{ no_distractors(model="tf-rope") | range }}' +
    '{{ check: min(diff(no_distractors(model="tf-rope"), distractors(model="tf-rope"))) > 0.2 }}';
  assert.equal(fill(text, "x", fns(0.6), ANSWER_FORMATS), "55% [50–60%] against 90%");
  assert.throws(() => fill(text, "x", fns(0.8), ANSWER_FORMATS), /does not hold/);
  assert.equal(fill('{{ distractors(model="tf-rope", at="3L") | range }}', "x", fns(0.6), ANSWER_FORMATS), "20%");
  const kept = '{{ ratio(distractors(model="tf-rope"), no_distractors(model="tf-rope")) | scores }}';
  assert.equal(fill(kept, "x", fns(0.63), ANSWER_FORMATS), "0.63 [0.56–0.70]");
  assert.throws(
    () => fill('{{ distractors(model="tf-rope", at="4L") | range }}', "x", fns(0.6), ANSWER_FORMATS),
    /scored/,
  );
});

Deno.test("levels counts the partial levels a run's held-out accuracy rested at: one query at a time, or together", () => {
  const base = fixtureRun({ model: "mamba", M: 4, d: 8, tau: 1, seed: 0 });
  const K = base.config.K, level = (k: number) => (k + (4 - k) / K) / 4;
  // Every 50 steps: 20 checks at chance, 20 at one query, 20 at three, then solved; the other seed jumps at once.
  const staged = [
    ...Array(20).fill(1 / K),
    ...Array(20).fill(level(1)),
    ...Array(20).fill(level(3)),
    ...Array(20).fill(1),
  ];
  const direct = [...Array(60).fill(1 / K), ...Array(20).fill(1)];
  const history = (acc: number[]) => acc.map((a, j) => ({ step: 50 * (j + 1), loss: 1, accuracy: a }));
  const mamba = [staged, direct].map((acc, seed) => ({
    ...fixtureRun({ model: "mamba", M: 4, d: 8, tau: 1, seed }),
    history: history(acc),
  }));
  const fns = answerFunctions(mamba);
  assert.equal(fill("{{ partial(3, 4, 16) | pct }}", "x", fns, ANSWER_FORMATS), "76.6%");
  assert.equal(fill('{{ levels(model="mamba", M=4) | counts }}', "x", fns, ANSWER_FORMATS), "1 [0–2]");
  assert.equal(fill('{{ max(levels(model="mamba", M=4, steps=1001)) | int }}', "x", fns, ANSWER_FORMATS), "0");
  const claim = '{{ check: min(levels(model="mamba", M=4)) >= 1 }}';
  assert.throws(() => fill(claim, "x", fns, ANSWER_FORMATS), /does not hold/);
});

Deno.test("known keeps the seeds with a value, so min and max can range over the seeds that converged", () => {
  const rs = runs([1, 1, 1]);
  const capped = { ...rs[1], convergedStep: null, status: "cap" as const };
  const fns = answerFunctions([rs[0], capped, rs[2], rs[3]]);
  const text = '{{ min(known(conv(model="mamba"))) | steps }}–{{ max(known(conv(model="mamba"))) | steps }}';
  assert.equal(
    fill(text, "x", fns, ANSWER_FORMATS),
    `${Math.min(rs[0].convergedStep!, rs[2].convergedStep!).toLocaleString("en-US")}–${
      Math.max(rs[0].convergedStep!, rs[2].convergedStep!).toLocaleString("en-US")
    }`,
  );
  assert.throws(() => fill('{{ min(conv(model="mamba")) | steps }}', "x", fns, ANSWER_FORMATS), /missing seeds/);
  const none = answerFunctions([capped]);
  assert.throws(() => fill('{{ min(known(conv(model="mamba"))) | steps }}', "x", none, ANSWER_FORMATS), /no value/);
});

Deno.test("plateaued counts the seeds that did not converge and stopped improving; converged ones do not count", () => {
  const rs = runs([1, 1, 1]);
  const flat = { ...rs[1], convergedStep: null, status: "cap" as const, verdict: "plateaued" as const };
  const rising = { ...rs[2], convergedStep: null, status: "cap" as const, verdict: "still improving" as const };
  const fns = answerFunctions([rs[0], flat, rising, rs[3]]);
  assert.equal(
    fill('{{ plateaued(model="mamba") | int }} of {{ seeds(model="mamba") | int }}', "x", fns, ANSWER_FORMATS),
    "1 of 3",
  );
  assert.throws(() => fill('{{ check: plateaued(model="mamba") == 2 }}', "x", fns, ANSWER_FORMATS), /does not hold/);
});

Deno.test("where keeps the seeds whose other reading is in a range, to compare seeds with a head against those without", () => {
  const rope = [0, 1, 2].map((seed) => fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed }));
  const lags = [0.9, 0.05, 0.8];
  const fns = answerFunctions(rope, {
    probes: new Map(rope.map((r, i) => [
      r.key,
      fixtureProbe(r, {
        induction: { 1: 0.9, 2: 0.5, 3: 0.1 },
        lag: { 1: lags[i], 2: lags[i], 3: lags[i] },
      }),
    ])),
  });
  assert.equal(
    fill('{{ where(lag(model="tf-rope"), lag(model="tf-rope"), 0.7, 2) | scores }}', "x", fns, ANSWER_FORMATS),
    "0.85 [0.80–0.90]",
  );
  assert.equal(
    fill('{{ max(where(lag(model="tf-rope"), lag(model="tf-rope"), 0, 0.7)) | score }}', "x", fns, ANSWER_FORMATS),
    "0.05",
  );
  assert.throws(
    () =>
      fill('{{ min(where(lag(model="tf-rope"), lag(model="tf-rope"), 0.95, 2)) | score }}', "x", fns, ANSWER_FORMATS),
    /no seed/,
  );
  assert.throws(
    () =>
      fill(
        '{{ min(where(lag(model="tf-rope"), acc(model="tf-rope", M=1, tau=1, d=8, at="L"), "a", 2)) | score }}',
        "x",
        fns,
        ANSWER_FORMATS,
      ),
    /lo, hi/,
  );
});

Deno.test("a probe lookup with study= reads that study's probes, not this one's", () => {
  const nope = [0, 1].map((seed) => fixtureRun({ model: "tf-nope", M: 1, d: 8, tau: 5, seed }));
  const studies = new Map([["delay", { ...fixtureResults("p1"), problem: "delay", runs: nope }]]);
  const theirs = new Map(nope.map((r) => [r.key, fixtureProbe(r, { wrong: [0.4, 0.1, 0] })]));
  const text = '{{ wrong(study="delay", model="tf-nope", tau=5, offset=1) | range }}';
  const cited = answerFunctions(runs([1, 1, 1]), { studies, studyProbes: new Map([["delay", theirs]]) });
  assert.equal(fill(text, "x", cited, ANSWER_FORMATS), "40%");
  // The same probes handed in as this study's own do not answer a lookup into another study.
  const own = answerFunctions(runs([1, 1, 1]), { studies, probes: theirs });
  assert.throws(() => fill(text, "x", own, ANSWER_FORMATS), /no probe files/);
});

Deno.test("collapsed counts the seeds that converged and then ended more than 20 points below their best", () => {
  const rs = runs([1, 1, 1]);
  const fell = {
    ...rs[1],
    history: rs[1].history.map((h, i, a) => (i === a.length - 1 ? { ...h, accuracy: 0.06 } : h)),
  };
  const fns = answerFunctions([rs[0], fell, rs[2], rs[3]]);
  assert.equal(
    fill('{{ collapsed(model="mamba") | int }} of {{ converged(model="mamba") | int }}', "x", fns, ANSWER_FORMATS),
    "1 of 3",
  );
  assert.throws(() => fill('{{ check: collapsed(model="mamba") == 0 }}', "x", fns, ANSWER_FORMATS), /does not hold/);
});
