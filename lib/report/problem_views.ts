/**
 * What each problem's report shows: its title, a "How to read this" paragraph, its parts (a chart and the
 * findings computed under it) and a one-sentence headline. Runs are selected and grouped by config fields
 * (model, d, M, tau, L, K); `variant` labels are never parsed.
 *
 * - p1: accuracy vs length for the five models, one panel per τ; convergence curves per τ.
 * - p2: accuracy vs length for mamba, tf-rope and hybrid, one panel per M; convergence per M.
 * - p3: Mamba with d = 8 (taken from p2) against d = 64, one panel per M; the M = 16, τ = 10 run against its
 *   τ = 1 counterpart; convergence per M.
 */
import type { ProblemResults } from "../runs/results.ts";
import { accuracyChart, type ChartSpec, convergenceChart } from "./charts.ts";
import {
  accuracySentence,
  convergenceSummary,
  effectSentences,
  effectSummary,
  generalisationSummary,
  HOLD,
  interpretations,
  rankingText,
  stateSizeSentence,
  stepTimeSentence,
} from "./findings.ts";
import { fieldText, listText, pct, seriesName } from "./format.ts";
import {
  fieldOf,
  groupSeries,
  holdsUpTo,
  longestLength,
  pointAt,
  type Series,
  type SettingField,
  valuesOf,
  varyingFields,
} from "./series.ts";

/** A titled list of finding sentences. */
export interface FindingGroup {
  readonly heading: string | null;
  readonly sentences: readonly string[];
}

/**
 * One part of a problem: a chart (HTML figure, rendered on demand since it is the costly bit) and the findings
 * under it, or a note when it has no runs.
 */
export interface Part {
  readonly id: string;
  readonly title: string;
  readonly chart: (() => string) | null;
  readonly findings: readonly FindingGroup[];
  readonly note: string | null;
}

/** Everything a problem page shows, computed from its results. */
export interface ProblemView {
  readonly title: string;
  readonly howToRead: string;
  readonly parts: readonly Part[];
  readonly headline: string;
}

function compact(xs: readonly (string | null)[]): string[] {
  return xs.filter((x): x is string => x !== null && x.length > 0);
}

/** The legend name fields: the model, plus every other field that varies apart from the facet. */
function nameFieldsOf(series: readonly Series[], facet: SettingField | null): SettingField[] {
  const exclude: SettingField[] = facet === null ? ["model"] : ["model", facet];
  return ["model", ...varyingFields(series, exclude)];
}

function facetGroups(
  series: readonly Series[],
  facet: SettingField | null,
): { value: string | number; series: Series[] }[] {
  if (facet === null) return [{ value: "", series: [...series] }];
  return valuesOf(series, facet).map((value) => ({ value, series: series.filter((s) => fieldOf(s, facet) === value) }));
}

function distinct(values: readonly (string | number)[]): string {
  return values.length === 0 ? "?" : listText([...new Set(values)].map(String));
}

/** The numbers a "How to read this" paragraph quotes, from the configs of the runs. */
function settingText(
  series: readonly Series[],
): { K: string; d: string; L: string; L3: string; chance: string; samples: string } {
  const configs = series.map((s) => s.runs[0].config);
  const Ks = [...new Set(configs.map((c) => c.K))];
  return {
    K: distinct(Ks),
    d: distinct(configs.map((c) => c.d)),
    L: distinct(configs.map((c) => c.L)),
    L3: distinct(configs.map((c) => 3 * c.L)),
    chance: listText(Ks.map((K) => pct(1 / K))),
    samples: distinct(series.flatMap((s) => s.runs.map((r) => r.config.evalSamples))),
  };
}

function accuracyFindings(
  series: readonly Series[],
  facet: SettingField | null,
  nameFields: SettingField[],
): FindingGroup[] {
  const explained = new Set<string>();
  return facetGroups(series, facet).map(({ value, series: group }) => ({
    heading: facet === null ? null : fieldText(facet, value),
    sentences: compact([
      ...group.map((s) => accuracySentence(s, seriesName(s, nameFields))),
      generalisationSummary(group, nameFields),
      ...interpretations(group, nameFields, explained),
    ]),
  }));
}

function convergenceFindings(
  series: readonly Series[],
  facet: SettingField | null,
  nameFields: SettingField[],
): FindingGroup[] {
  const groups = facetGroups(series, facet).map(({ value, series: group }) => ({
    heading: facet === null ? null : fieldText(facet, value),
    sentences: compact([convergenceSummary(group, nameFields)]),
  }));
  return [...groups, { heading: "Training cost", sentences: compact([stepTimeSentence(series, nameFields)]) }];
}

function batchCaption(series: readonly Series[]): string {
  const configs = series.flatMap((s) => s.runs.map((r) => r.config));
  const c = configs[0];
  return `Training minibatch size ${distinct(configs.map((x) => x.batch))}; every ${
    distinct(configs.map((x) => x.checkEvery))
  } steps the model is scored on a fixed held-out test batch of ${
    distinct(configs.map((x) => x.testBatch))
  } sequences at length L. A run counts as converged at the first of ${c.patience} consecutive checks ≥ ${
    pct(c.target)
  }; dashed curves hit the step cap without converging, a cross marks a divergence. Hover a point for its numbers.`;
}

function accuracyCaption(series: readonly Series[], what: string): string {
  const t = settingText(series);
  return `${what} Each point is the accuracy on ${t.samples} fresh test sequences of that length; the x axis is ` +
    `log₂ from τ+2 to 3L = ${t.L3}. Solid vertical line: the training length L = ${t.L}; dashed horizontal ` +
    `line: chance 1/K = ${t.chance}. Hover a point for its numbers.`;
}

function emptyPart(id: string, title: string, note: string): Part {
  return { id, title, chart: null, findings: [], note };
}

function accuracyPart(
  id: string,
  title: string,
  series: readonly Series[],
  facet: SettingField | null,
  what: string,
  extra: FindingGroup[],
): Part {
  if (series.length === 0) return emptyPart(id, title, "No finished runs yet.");
  const nameFields = nameFieldsOf(series, facet);
  const spec: ChartSpec = { id, series, facet, nameFields, caption: accuracyCaption(series, what) };
  return {
    id,
    title,
    chart: () => accuracyChart(spec),
    findings: [...accuracyFindings(series, facet, nameFields), ...extra.filter((g) => g.sentences.length > 0)],
    note: null,
  };
}

function convergencePart(id: string, title: string, series: readonly Series[], facet: SettingField | null): Part {
  if (series.length === 0) return emptyPart(id, title, "No finished runs yet.");
  const nameFields = nameFieldsOf(series, facet);
  const spec: ChartSpec = { id, series, facet, nameFields, caption: batchCaption(series) };
  return {
    id,
    title,
    chart: () => convergenceChart(spec),
    findings: convergenceFindings(series, facet, nameFields),
    note: null,
  };
}

function noRuns(results: ProblemResults): string {
  return `No finished runs yet (0 of ${results.planned} planned).`;
}

function p1Headline(results: ProblemResults, series: readonly Series[]): string {
  const tau = valuesOf(series, "tau")[0];
  const group = series.filter((s) => s.tau === tau);
  if (group.length === 0) return noRuns(results);
  const names = nameFieldsOf(group, "tau");
  const curves = group.filter((s) => s.evaluated.length > 0);
  const good = curves.filter((s) => (holdsUpTo(s, HOLD) ?? 0) >= (longestLength(s) ?? Infinity));
  const bad = curves.filter((s) => !good.includes(s));
  const diverged = group.filter((s) => s.evaluated.length === 0);
  const L = group[0].L;
  const at3 = (s: Series) => `${seriesName(s, names)} ${pct(pointAt(s, 3 * s.L)?.mean ?? 0)}`;
  const lead = `Trained at L = ${L} with τ = ${tau}, `;
  if (curves.length === 0) {
    return `${lead}every finished run diverged (${listText(diverged.map((s) => seriesName(s, names)))}).`;
  }
  const goodText = good.length === 0
    ? `no model stays ≥ ${pct(HOLD)} accurate up to 3L = ${3 * L}`
    : `${listText(good.map((s) => seriesName(s, names)))} stay${good.length === 1 ? "s" : ""} ≥ ${
      pct(HOLD)
    } accurate up to 3L = ${3 * L}`;
  const badText = bad.length === 0
    ? ""
    : `${good.length === 0 ? "" : " while the others do not"} (at 3L: ${listText(bad.map(at3))})`;
  const divText = diverged.length === 0 ? "" : `; ${listText(diverged.map((s) => seriesName(s, names)))} diverged`;
  return `${lead}${goodText}${badText}${divText}.`;
}

function p2Headline(results: ProblemResults, series: readonly Series[]): string {
  const Ms = valuesOf(series, "M") as number[];
  if (Ms.length === 0) return noRuns(results);
  const M = Ms[Ms.length - 1];
  const group = series.filter((s) => s.M === M);
  const names = nameFieldsOf(group, "M");
  const L = group[0].L;
  const atL = rankingText(group, 1, names);
  const at3 = rankingText(group, 3, names);
  const full = M === group[0].K ? " (full AR)" : "";
  const diverged = group.filter((s) => s.evaluated.length === 0).map((s) => seriesName(s, names));
  const divText = diverged.length === 0 ? "" : `; ${listText(diverged)} diverged`;
  if (atL === null) return `With M = ${M}${full}, every model diverged.`;
  return `With M = ${M} queries${full}, accuracy at L = ${L} is ${atL}; at 3L = ${3 * L} it is ${at3}${divText}.`;
}

function p3Headline(results: ProblemResults, series: readonly Series[]): string {
  if (series.length === 0) return noRuns(results);
  const base = series.filter((s) => s.tau === 1);
  const Ms = valuesOf(base, "M") as number[];
  for (const M of [...Ms].reverse()) {
    const atM = base.filter((s) => s.M === M && s.evaluated.length > 0).sort((a, b) => a.d - b.d);
    if (atM.length < 2) continue;
    const small = atM[0], large = atM[atM.length - 1];
    const a = (s: Series, k: number) => pct(pointAt(s, k * s.L)?.mean ?? 0);
    return `For ${large.model} at M = ${M}, d = ${large.d} gives ${a(large, 1)} at L = ${large.L} against ${
      a(small, 1)
    } with d = ${small.d} (at 3L = ${3 * large.L}: ${a(large, 3)} against ${a(small, 3)}).`;
  }
  const names = nameFieldsOf(series, null);
  const ranked = rankingText(series, 1, names);
  return ranked === null
    ? "Every finished run diverged."
    : `Accuracy at L: ${ranked} (the d = 8 vs d = 64 pair is not complete yet).`;
}

function p1View(results: ProblemResults, series: Series[]): ProblemView {
  const t = settingText(series);
  const taus = valuesOf(series, "tau");
  const delay = compact([...effectSentences(series, "tau"), effectSummary(series, "tau")]);
  return {
    title: "Problem 1 — induction heads (M = 1): five models, delay τ = 1 and τ = 5",
    howToRead: `Every model is trained only on sequences of length L = ${t.L} (K = ${t.K} tokens, d = ${t.d}) ` +
      `and then tested at every length from τ+2 to 3L = ${t.L3}. With M = 1 the query q is always the same ` +
      `token: the model must find q's earlier occurrence and output the token τ positions after it. Accuracy up ` +
      `to the vertical line at L shows whether a model learned the task; beyond it, whether the mechanism it ` +
      `learned carries over to positions and distances never seen in training (length generalisation). With ` +
      `a delay τ > 1 the value no longer follows q directly: a model has to match q and then look τ tokens ` +
      `further, instead of copying the next token. Panels: ${listText(taus.map((v) => fieldText("tau", v)))}. ` +
      `Part (c) follows the accuracy on a fixed held-out batch during training: how fast each model converges.`,
    parts: [
      accuracyPart(
        "p1-accuracy",
        "(a, b) Accuracy against context length",
        series,
        "tau",
        "Accuracy of the five models against the test context length, one panel per delay τ.",
        [{ heading: "Effect of the delay τ", sentences: delay }],
      ),
      convergencePart("p1-convergence", "(c) Convergence during training", series, "tau"),
    ],
    headline: p1Headline(results, series),
  };
}

function p2View(results: ProblemResults, series: Series[]): ProblemView {
  const t = settingText(series);
  const names = nameFieldsOf(series, "M");
  const Ms = valuesOf(series, "M");
  const ranks = Ms.map((M) => {
    const group = series.filter((s) => s.M === M);
    const r = rankingText(group, 1, names), r3 = rankingText(group, 3, names);
    return r === null ? null : `M = ${M}: at L ${r}; at 3L ${r3}.`;
  });
  return {
    title: "Problem 2 — associative recall with M = 4, 8, 16 queries (d = 8)",
    howToRead: `The last token is now any of the first M tokens (M = 16 = K is full associative recall), so the ` +
      `model must retrieve the value that followed whichever query appears, not one fixed token. Trained at ` +
      `L = ${t.L} (K = ${t.K}, d = ${t.d}, τ = 1), tested up to 3L = ${t.L3}. Attention can look back over the ` +
      `whole context once it sees the query; a recurrent model (Mamba) must carry every (query, value) pair it ` +
      `may need in a fixed-size state before it knows which query will be asked, which gets harder as M grows. ` +
      `The hybrid uses a Mamba layer first and attention second. Panels: ${
        listText(Ms.map((v) => fieldText("M", v)))
      }.`,
    parts: [
      accuracyPart(
        "p2-accuracy",
        "Accuracy against context length, by number of queries M",
        series,
        "M",
        "Accuracy of mamba, tf-rope and hybrid against the test context length, one panel per M.",
        [
          { heading: "Effect of M", sentences: compact([...effectSentences(series, "M"), effectSummary(series, "M")]) },
          { heading: "Models compared at each M (best first)", sentences: compact(ranks) },
        ],
      ),
      convergencePart("p2-convergence", "Convergence during training, by M", series, "M"),
    ],
    headline: p2Headline(results, series),
  };
}

function p3View(results: ProblemResults, series: Series[]): ProblemView {
  const t = settingText(series);
  // Standard AR (τ = 1) is the comparison of d; any other τ is the delay experiment.
  const baseTau = 1;
  const base = series.filter((s) => s.tau === baseTau);
  const delayed = series.filter((s) => s.tau !== baseTau);
  const sameSetting = (a: Series, b: Series) =>
    a.model === b.model && a.d === b.d && a.M === b.M && a.L === b.L && a.K === b.K;
  const pairs = [...base.filter((s) => delayed.some((x) => sameSetting(x, s))), ...delayed];
  const delayTaus = valuesOf(delayed, "tau");
  const delayTitle = delayed.length === 0
    ? "Longer delay"
    : `Longer delay: ${listText(valuesOf(delayed, "M").map((v) => fieldText("M", v)))}, ${
      listText(delayTaus.map((v) => fieldText("tau", v)))
    } against ${fieldText("tau", baseTau)}`;
  return {
    title: "Problem 3 — Mamba with a wider embedding: d = 64 against d = 8",
    howToRead: `Only Mamba. The runs with d = 64 repeat Problem 2's Mamba settings (M = 4, 8, 16, τ = ${baseTau}); ` +
      `the d = 8 runs are Problem 2's, included here for comparison. d is both the embedding size and, through ` +
      `Mamba's inner width 2d, the size of the recurrent state in which the model must keep the (query, value) ` +
      `pairs it may be asked about. Trained at L = ${t.L} (K = ${t.K}), tested up to 3L = ${t.L3}. The last ` +
      `part adds a delay: with τ = ${
        delayTaus.length === 0 ? 10 : listText(delayTaus.map(String))
      } the value sits that many tokens after the query's first occurrence, so the state must keep the query ` +
      `match alive for τ steps before the value arrives.`,
    parts: [
      accuracyPart(
        "p3-accuracy",
        "Accuracy against context length: d = 8 against d = 64, by M",
        base,
        "M",
        "Mamba's accuracy against the test context length with d = 8 and d = 64, one panel per M.",
        [{
          heading: "Effect of d",
          sentences: compact([
            ...effectSentences(base, "d"),
            effectSummary(base, "d"),
            stateSizeSentence(base),
          ]),
        }],
      ),
      delayed.length === 0
        ? emptyPart("p3-delay", delayTitle, "The delayed run (M = 16, τ = 10) has not finished yet.")
        : accuracyPart(
          "p3-delay",
          delayTitle,
          pairs,
          null,
          `Mamba's accuracy with the longer delay against the same setting with τ = ${baseTau}.`,
          [{
            heading: `Effect of the delay τ`,
            sentences: compact([...effectSentences(pairs, "tau"), effectSummary(pairs, "tau")]),
          }],
        ),
      convergencePart("p3-convergence", "Convergence during training, by M", series, "M"),
    ],
    headline: p3Headline(results, series),
  };
}

/** The view of one problem's results: title, how to read it, parts with charts and findings, headline. */
export function problemView(results: ProblemResults): ProblemView {
  const series = groupSeries(results.runs);
  if (results.problem === "p1") return p1View(results, series);
  if (results.problem === "p2") return p2View(results, series);
  return p3View(results, series);
}
