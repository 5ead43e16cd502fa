/**
 * The building blocks of a problem's report view (each problem module in problems/ composes its own): a
 * "How to read this" paragraph's numbers, parts (a chart and the findings computed under it) and the shapes
 * a view returns. Runs are selected and grouped by config fields (model, d, M, tau, L, K); `variant` labels
 * are never parsed.
 */
import type { ProblemResults, RunResult } from "../store/results.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import type { LongEval, WhichWeights } from "../probes/long_file.ts";
import { markdownHtml } from "./markdown.ts";
import { recipeCaption } from "./answer_figures.ts";
import { accuracyChart, type ChartSpec, convergenceChart } from "./charts.ts";
import { BINS_PER_OCTAVE } from "./binned_curve.ts";
import { fieldText, listText, pct, seriesName } from "./format.ts";
import { fieldOf, pointAt, type Series, type SettingField, valuesOf, varyingFields } from "./series.ts";

/** A titled list of finding sentences. */
export interface FindingGroup {
  readonly heading: string | null;
  readonly sentences: readonly string[];
  /** Set each entry as a paragraph (an answer) instead of a list item. */
  readonly paragraph?: boolean;
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
  /**
   * The part draws what a study's answer figures draw, more coarsely (accuracy against length as a mean and a min-max
   * band): left out of the appendix of a page whose answers are shown (lib/site/page.ts).
   */
  readonly inAnswers?: boolean;
}

/** Everything a problem page shows below its title, computed from its results. */
export interface ProblemView {
  readonly howToRead: string;
  readonly parts: readonly Part[];
  readonly headline: string;
}

/** What a study's page may read besides its own results: the other studies' results, its probes. */
export interface ViewContext {
  /** Results of every study found in the same reports folder, by id. */
  readonly results: ReadonlyMap<string, ProblemResults>;
  /** The probe results of this study's runs, by run key (absent or empty when none were computed). */
  readonly probes?: ReadonlyMap<string, ProbeResult>;
  /** Accuracy beyond the runs' own lengths (`deno task long-eval`), by run key: final and converged weights. */
  readonly long?: ReadonlyMap<string, Partial<Record<WhichWeights, LongEval>>>;
  /** Every study's probes, by study id then run key, for answers that cite another study's (absent: none). */
  readonly studyProbes?: ReadonlyMap<string, ReadonlyMap<string, ProbeResult>>;
}

/** A study's page (lib/site/pages/<id>.ts): its view of the results, and the figures its authored answers place. */
export interface StudyPage {
  /** The report: how to read it, parts (charts and findings) and a one-sentence headline. */
  view(results: ProblemResults, context: ViewContext): ProblemView;
  /** Figure HTML by id for the study's answers.md, drawn from the results on demand. */
  figures?(results: ProblemResults): Readonly<Record<string, () => string>>;
}

export function compact(xs: readonly (string | null)[]): string[] {
  return xs.filter((x): x is string => x !== null && x.length > 0);
}

/** The legend name fields: the model, plus every other field that varies apart from the facet. */
export function nameFieldsOf(series: readonly Series[], facet: SettingField | null): SettingField[] {
  const exclude: SettingField[] = facet === null ? ["model"] : ["model", facet];
  return ["model", ...varyingFields(series, exclude)];
}

export function facetGroups(
  series: readonly Series[],
  facet: SettingField | null,
): { value: string | number; series: Series[] }[] {
  if (facet === null) return [{ value: "", series: [...series] }];
  return valuesOf(series, facet).map((value) => ({ value, series: series.filter((s) => fieldOf(s, facet) === value) }));
}

export function distinct(values: readonly (string | number)[]): string {
  return values.length === 0 ? "?" : listText([...new Set(values)].map(String));
}

/** The numbers a "How to read this" paragraph quotes, from the configs of the runs. */
export function settingText(
  series: readonly Series[],
): { K: string; d: string; L: string; L3: string; chance: string; samples: string; headlineSamples: string } {
  const configs = series.map((s) => s.runs[0].config);
  const Ks = [...new Set(configs.map((c) => c.K))];
  return {
    K: distinct(Ks),
    d: distinct(configs.map((c) => c.d)),
    L: distinct(configs.map((c) => c.L)),
    L3: distinct(configs.map((c) => 3 * c.L)),
    chance: listText(Ks.map((K) => pct(1 / K))),
    samples: distinct(series.flatMap((s) => s.runs.map((r) => r.config.evalSamples))),
    headlineSamples: distinct(series.flatMap((s) => s.runs.map((r) => r.config.headlineSamples))),
  };
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
  } (the dashed horizontal line); each curve is drawn at up to 32 checks per doubling of the step, each as measured, ` +
    `so the log axis is not crowded; dashed curves did not converge (no longer improving at the end of their budget, or still improving ` +
    `at its end), a cross marks a divergence. ${recipeCaption(series.flatMap((x) => x.runs))}`;
}

function accuracyCaption(series: readonly Series[], what: string): string {
  const t = settingText(series);
  const headline = t.headlineSamples === t.samples ? "" : ` (${t.headlineSamples} at L, 2L and 3L)`;
  const fewest = Math.min(...series.flatMap((s) => s.runs.map((r) => r.config.evalSamples)));
  const noise = Math.round(500 / Math.sqrt(fewest)) / 10; // standard error at 50% accuracy, in points
  return `${what} Thin line: the accuracy at each length on ${t.samples} fresh test sequences${headline} per ` +
    `seed, mean over seeds (its standard error is up to ${noise} points, so it is jagged). Bold line: ` +
    `neighbouring lengths pooled in bins 1/${BINS_PER_OCTAVE} octave wide, L, 2L and 3L each on its own; with ` +
    `several seeds the band is the seeds' min–max of the pooled accuracy. The x axis is ` +
    `log₂ from τ+2 to 3L = ${t.L3}. Solid vertical line: the training length L = ${t.L}; dashed horizontal ` +
    `line: chance 1/K = ${t.chance}. ${recipeCaption(series.flatMap((x) => x.runs))}`;
}

/** A part that is a Markdown table of the runs (`table` renders it), or a note while there are none. */
export function tablePart(
  id: string,
  title: string,
  runs: readonly RunResult[],
  table: (runs: readonly RunResult[]) => string,
): Part {
  if (runs.length === 0) return emptyPart(id, title, "No finished runs yet.");
  return { id, title, chart: () => markdownHtml(table(runs)), findings: [], note: null };
}

export function emptyPart(id: string, title: string, note: string): Part {
  return { id, title, chart: null, findings: [], note };
}

export function accuracyPart(
  id: string,
  title: string,
  series: readonly Series[],
  facet: SettingField | null,
  what: string,
): Part {
  if (series.length === 0) return emptyPart(id, title, "No finished runs yet.");
  const nameFields = nameFieldsOf(series, facet);
  const spec: ChartSpec = { id, series, facet, nameFields, caption: accuracyCaption(series, what) };
  return {
    id,
    title,
    chart: () => accuracyChart(spec),
    findings: [],
    note: null,
    inAnswers: true,
  };
}

export function convergencePart(
  id: string,
  title: string,
  series: readonly Series[],
  facet: SettingField | null,
): Part {
  if (series.length === 0) return emptyPart(id, title, "No finished runs yet.");
  const nameFields = nameFieldsOf(series, facet);
  const spec: ChartSpec = { id, series, facet, nameFields, caption: batchCaption(series) };
  return {
    id,
    title,
    chart: () => convergenceChart(spec),
    findings: [],
    note: null,
  };
}

/**
 * The one-line headline of a problem (index page, the sweep's closing line): accuracy at L and 3L per model, mean over
 * seeds, for the settings with `facet` equal to `value` (all when null).
 */
export function accuracyHeadline(
  results: ProblemResults,
  series: readonly Series[],
  facet: SettingField | null,
  value: string | number | null,
): string {
  const group = series.filter((s) => facet === null || fieldOf(s, facet) === value);
  const done = group.filter((s) => s.evaluated.length > 0);
  if (done.length === 0) return noRuns(results);
  const names = nameFieldsOf(group, facet);
  const meanAt = (s: Series, k: number) => pct(pointAt(s, k * s.L)?.mean ?? 0); // the curve's mean over seeds
  const where = facet === null ? "" : ` at ${fieldText(facet, value!)}`;
  return `Accuracy at L and 3L${where}, mean over seeds: ${
    listText(done.map((s) => `${seriesName(s, names)} ${meanAt(s, 1)} and ${meanAt(s, 3)}`))
  }.`;
}

export function noRuns(results: ProblemResults): string {
  return `No finished runs yet (0 of ${results.planned} planned).`;
}
