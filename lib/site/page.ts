/**
 * The report pages: one self-contained HTML document per problem (header with provenance, "How to read this",
 * charts with findings, a table of every run) and an index linking every registered problem with its headline.
 *
 * Pages load nothing: charts are inline SVG, styles are inline CSS, fonts are the system's, and there is no
 * script. They open from disk in any browser.
 */
import { wilsonInterval } from "../stats/wilson.ts";
import { endingOf } from "./ending.ts";
import { PANEL_PRINT_ZOOM } from "./probe_charts.ts";
import type { BackendInfo } from "../platform/backend.ts";
import { lengthPointAt, type ProblemResults, type RunResult } from "../store/results.ts";
import type { ProblemDefinition } from "./pages.ts";
import type { ViewContext } from "./view.ts";
import { dateText, duration, escapeHtml, listText, pct, steps } from "./format.ts";
import type { Part } from "./view.ts";
import { ANSWERS_CSS, answersHtml, answersShown, LEGEND_SCRIPT } from "./answers_document.ts";

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2328;
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1060px; margin: 0 auto; padding: 28px 28px 56px; background: #fff; min-height: 100vh; }
h1 { font-size: 25px; line-height: 1.25; margin: 0 0 14px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-top: 14px; border-top: 1px solid #e3e5e8; }
h3 { font-size: 15px; margin: 16px 0 4px; }
a { color: #1a5fb4; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #f1f3f5;
  padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; font-size: 14px; }
dl.meta dt { color: #59636e; }
dl.meta dd { margin: 0; }
.warn { color: #9a3412; font-weight: 600; }
.howto { background: #f3f6fb; border-left: 4px solid #4269d0; padding: 10px 16px; margin: 20px 0 6px; }
.howto h2 { border: 0; margin: 0 0 4px; padding: 0; font-size: 16px; }
.howto p { margin: 0; }
figure.chart { margin: 12px 0 6px; }
figure.chart .plot { overflow-x: auto; }
figure.chart .plot > svg { display: block; }
figcaption { font-size: 13px; color: #59636e; margin-top: 4px; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 20px; padding: 0; margin: 0 0 6px;
  font-size: 13px; }
ul.legend li { display: block; }
ul.legend li svg { vertical-align: middle; }
ul.legend .name { font-weight: 600; white-space: nowrap; }
ul.legend .note { color: #59636e; }
ul.legend li.key { color: #59636e; flex-basis: 100%; }
.findings { margin: 10px 0 0; }
.findings ul { margin: 2px 0 8px; padding-left: 20px; }
.findings li { margin: 3px 0; }
.note-empty { color: #59636e; font-style: italic; }
details { margin-top: 30px; }
summary { cursor: pointer; font-weight: 600; }
table.runs { border-collapse: collapse; font-size: 12.5px; margin-top: 8px; width: 100%; }
table.runs th, table.runs td { padding: 3px 7px; border-bottom: 1px solid #e3e5e8; text-align: right;
  white-space: nowrap; }
table.runs th { background: #f1f3f5; position: sticky; top: 0; }
table.runs td.text, table.runs th.text { text-align: left; }
ol.problems { padding-left: 20px; }
ol.problems li { margin: 12px 0; }
ol.problems .headline { display: block; }
ol.problems .sub { display: block; color: #59636e; font-size: 13px; }
@page { size: letter; margin: 0.55in 0.5in 0.65in;
  @bottom-center { content: "page " counter(page) " of " counter(pages); font: 9px system-ui, sans-serif;
    color: #59636e; } }
@page wide { size: letter landscape; }
@media print {
  body { background: #fff; font-size: 9.5pt; line-height: 1.4; }
  main { max-width: none; padding: 0; min-height: 0; }
  .nav { display: none; }
  h2 { break-after: avoid; margin-top: 22px; }
  h3 { break-after: avoid; }
  .howto { background: none; border-left: 2px solid #4269d0; padding: 2px 0 2px 12px; }
  code { background: none; padding: 0; }
  figure.chart { break-inside: avoid; margin: 8px 0 10px; }
  figure.chart .plot { overflow: visible; }
  figure.chart .plot > svg { max-width: 100%; height: auto; }
  figure.heatmap .panel { zoom: ${PANEL_PRINT_ZOOM}; }
  figure.chart g[fill-opacity="0"] { display: none; } /* invisible hover targets: nothing to hover on paper */
  figcaption { font-size: 8pt; }
  ul.legend { font-size: 8pt; }
  li { break-inside: avoid; }
  details::details-content { content-visibility: visible; }
  details > summary { list-style: none; font-size: 12pt; }
  details > summary::-webkit-details-marker { display: none; }
  details.runs { page: wide; margin-top: 0; }
  table.runs { font-size: 8pt; }
  table.runs th { background: none; border-bottom: 1px solid #59636e; position: static; white-space: normal; }
  table.runs td { white-space: normal; } /* nothing may be wider than the paper: Chromium would shrink every page */
  details.runs table.runs { font-size: 7pt; }
  details.runs table.runs th, details.runs table.runs td { padding: 2px 3px; }
  details.runs table.runs td { white-space: nowrap; }
  details.runs table.runs td.wrap { white-space: normal; min-width: 12em; }
  table.runs tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
`;

/** A whole HTML document around `body`, with the report styles (and `extraCss` after them). */
export function documentHtml(title: string, body: string, extraCss = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}${extraCss}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function backendText(runs: readonly RunResult[]): string {
  const describe = (b: BackendInfo) =>
    `${b.backend}, SIMD ${b.simd ? "on" : "off"}, threads ${b.threads ? "on" : "off"} (${b.wasmBinary})`;
  const all = [...new Set(runs.map((r) => describe(r.backend)))];
  return all.length === 0 ? "no finished runs" : all.join("; ");
}

function statusCounts(runs: readonly RunResult[]): string {
  const count = (verdict: RunResult["verdict"]) => runs.filter((r) => r.verdict === verdict).length;
  const parts = [
    [count("converged"), "converged"],
    [count("plateaued"), "not converged within their steps, no longer improving"],
    [count("still improving"), "still improving at the end of their budget"],
    [count("diverged"), "diverged"],
  ] as const;
  return listText(parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`));
}

/** The seeds the runs used, e.g. "0, 1 and 2". */
function seedsText(runs: readonly RunResult[]): string {
  const seeds = [...new Set(runs.map((r) => r.config.seed))].sort((a, b) => a - b);
  return seeds.length === 0 ? "—" : listText(seeds.map(String));
}

/** Where the results came from: command, dates, machine, versions, backend, seeds and how many runs finished. */
export function provenanceHtml(results: ProblemResults): string {
  const v = results.versions;
  const done = results.runs.length;
  const partial = done < results.planned
    ? ` <span class="warn">— the sweep was interrupted or is still running (here or in other shards); this report shows the finished runs only.</span>`
    : "";
  const rows: [string, string][] = [
    ["Command", `<code>${escapeHtml(results.command)}</code>`],
    ["Date", `${escapeHtml(dateText(results.startedAt))} → ${escapeHtml(dateText(results.finishedAt))}`],
    ["Wall time", escapeHtml(duration(results.wallSeconds))],
    ["Machine", `${results.cores} CPU cores`],
    [
      "Versions",
      escapeHtml(`recall-lab ${v.recallLab}, Deno ${v.deno}, V8 ${v.v8}, TF.js ${v.tfjs}`),
    ],
    ["Backend", escapeHtml(backendText(results.runs))],
    ["Seeds", escapeHtml(seedsText(results.runs))],
    [
      "Runs",
      `${done} of ${results.planned} planned runs finished${
        done === 0 ? "" : `: ${escapeHtml(statusCounts(results.runs))}`
      }.${partial}`,
    ],
  ];
  return `<dl class="meta">${rows.map(([k, val]) => `<dt>${k}</dt><dd>${val}</dd>`).join("")}</dl>`;
}

function partHtml(part: Part): string {
  const body = part.note !== null ? `<p class="note-empty">${escapeHtml(part.note)}</p>` : "";
  const findings = part.findings.length === 0
    ? ""
    : `<div class="findings">${part.findings.every((g) => g.paragraph === true) ? "" : "<h3>Findings</h3>"}${
      part.findings.map((g) =>
        `${g.heading === null ? "" : `<h3>${escapeHtml(g.heading)}</h3>`}${
          g.paragraph === true
            ? g.sentences.map((s) => `<p class="answer">${escapeHtml(s)}</p>`).join("")
            : `<ul>${
              g.sentences.map((s) => `<li>${escapeHtml(s)}</li>`).join("")
            }</ul>`
        }`
      ).join("")
    }</div>`;
  return `<section class="part" id="${escapeHtml(part.id)}-part"><h2>${escapeHtml(part.title)}</h2>${body}${
    part.chart?.() ?? ""
  }${findings}</section>`;
}

/** "99.6% [99.3–99.8]": the run's accuracy at k·L with its Wilson 95% interval over the sequences scored there. */
function accuracyCell(r: RunResult, k: number): string {
  const a = lengthPointAt(r, k * r.config.L);
  if (a === null) return "—";
  const w = wilsonInterval(Math.round(a.accuracy * a.samples), a.samples);
  return `${pct(a.accuracy)} [${pct(w.lo).slice(0, -1)}–${pct(w.hi)}]`;
}

/** Classes of the run table's cells by column: text is left-aligned; wrap may break lines on paper. */
const CELL_CLASS: Readonly<Record<number, string>> = { 0: "text", 7: "text wrap" };

function runsTableHtml(runs: readonly RunResult[], open: boolean): string {
  if (runs.length === 0) return "";
  const head = [
    "model",
    "K",
    "d",
    "M",
    "τ",
    "L",
    "seed",
    "ending",
    "steps run",
    "budget",
    "converged at",
    "params",
    "acc at L [95% CI]",
    "at 2L",
    "at 3L",
    "train time",
    "ms/step",
    "peak RSS MB",
  ];
  const rows = runs.map((r) => {
    const c = r.config;
    const cells = [
      c.model,
      c.K,
      c.d,
      c.M,
      c.tau,
      c.L,
      c.seed,
      endingOf(r),
      steps(r.stepsRun),
      steps(c.steps),
      r.convergedStep === null ? "—" : steps(r.convergedStep),
      steps(r.paramCount),
      accuracyCell(r, 1),
      accuracyCell(r, 2),
      accuracyCell(r, 3),
      duration(r.timing.trainSeconds),
      String(Math.round(r.timing.medianStepMs * 10) / 10),
      r.timing.peakRssMb === undefined ? "—" : String(r.timing.peakRssMb),
    ];
    return `<tr>${
      cells.map((v, i) =>
        `<td${CELL_CLASS[i] === undefined ? "" : ` class="${CELL_CLASS[i]}"`}>${escapeHtml(String(v))}</td>`
      ).join("")
    }</tr>`;
  });
  const th = head.map((h, i) => `<th${i === 0 || i === 7 ? ' class="text"' : ""}>${escapeHtml(h)}</th>`).join("");
  return `<details class="runs"${open ? " open" : ""}><summary>All ${runs.length} finished runs</summary>` +
    `<table class="runs"><thead><tr>${th}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table></details>`;
}

/** No other problems' results: the context of a page rendered on its own. */
const NO_CONTEXT: ViewContext = { results: new Map() };

/** The problem's headline finding in one sentence, computed from its numbers (used on the index). */
export function headline(problem: ProblemDefinition, results: ProblemResults, context = NO_CONTEXT): string {
  return problem.view(results, context).headline;
}

/** How a problem's body is drawn: for the screen (a link back to the index) or for print (lib/site/). */
export interface BodyOptions {
  /**
   * Print: no navigation, the provenance left to the document's title block, and the run table expanded
   * (`<details open>`; the print styles also open it when a page is printed from a browser).
   */
  readonly print: boolean;
  /** Leave the authored answers out (the homework appendix, whose main document holds them). */
  readonly withoutAnswers?: boolean;
}

/** The body of one problem's report: title, provenance, how to read it, headline, parts and the run table. */
export function problemBodyHtml(
  problem: ProblemDefinition,
  results: ProblemResults,
  context: ViewContext = NO_CONTEXT,
  extraParts: readonly Part[] = [], // appended after the view's parts (the probes: lib/site/probe_parts.ts)
  options: BodyOptions = { print: false },
): string {
  if (results.problem !== problem.id) {
    throw new Error(`results of problem "${results.problem}" cannot be drawn as problem "${problem.id}"`);
  }
  const view = problem.view(results, context);
  const nav = options.print ? "" : `<p class="nav"><a href="../index.html">← all problems</a></p>`;
  const provenance = options.print ? "" : provenanceHtml(results);
  // With the answers shown (here, or in the homework's main document when this is its appendix), the appendix leaves
  // out the charts their figures already draw seed by seed.
  const answered = problem.answers !== undefined && answersShown(problem.answers, results);
  const answers = problem.answers === undefined || options.withoutAnswers === true
    ? ""
    : `${
      answersHtml(problem.answers, results, {
        studies: context.results,
        probes: context.probes,
        long: context.long,
        studyProbes: context.studyProbes,
      })
    }<h1 class="appendix-title">Appendix: every chart and probe</h1>`;
  return `<header>${nav}<h1>${escapeHtml(problem.title)}</h1>${provenance}</header>
${answers}
<section class="howto"><h2>How to read this</h2><p>${escapeHtml(view.howToRead)}</p></section>
<p><strong>In one sentence:</strong> ${escapeHtml(view.headline)}</p>
${[...view.parts, ...extraParts].filter((p) => !(answered && p.inAnswers === true)).map(partHtml).join("\n")}
${runsTableHtml(results.runs, options.print)}`;
}

/** The full HTML document of one problem's report; `probesPage` links a page of its probes when there is one. */
export function renderProblemPage(
  problem: ProblemDefinition,
  results: ProblemResults,
  context: ViewContext = NO_CONTEXT,
  extraParts: readonly Part[] = [], // appended after the view's parts
  probesPage: string | null = null,
): string {
  const link = probesPage === null
    ? ""
    : `\n<p class="nav"><a href="${escapeHtml(probesPage)}">The probes of these runs: what the models attend to and ` +
      `keep →</a></p>`;
  const body = problemBodyHtml(problem, results, context, extraParts) + link;
  return problem.answers === undefined
    ? documentHtml(`Recall Lab — ${problem.title}`, body)
    : documentHtml(`Recall Lab — ${problem.title}`, `${body}\n${LEGEND_SCRIPT}`, ANSWERS_CSS);
}

/**
 * A page of further parts of a problem (its probes), linked from the problem's page, so that page stays light: the
 * probes' heat maps weigh more than everything else on it.
 */
export function renderPartsPage(problem: ProblemDefinition, title: string, parts: readonly Part[]): string {
  const body = `<header><p class="nav"><a href="index.html">← ${escapeHtml(problem.title)}</a></p>` +
    `<h1>${escapeHtml(title)}</h1></header>\n${parts.map(partHtml).join("\n")}`;
  return documentHtml(`Recall Lab — ${title}`, body);
}

/** The index document: a link to each registered problem with its headline finding (or "not run yet"). */
export function renderIndexPage(problems: readonly ProblemDefinition[], context: ViewContext): string {
  const items = problems.map((p) => {
    const results = context.results.get(p.id);
    if (results === undefined) {
      return `<li><strong>${escapeHtml(p.title)}</strong><span class="sub">Not run yet.</span></li>`;
    }
    return `<li><a href="${escapeHtml(p.id)}/index.html"><strong>${escapeHtml(p.title)}</strong></a>` +
      `<span class="headline">${
        escapeHtml(headline(p, results, context))
      }</span><span class="sub">${results.runs.length} of ${results.planned} planned runs finished; ${
        escapeHtml(dateText(results.finishedAt))
      }; <code>${escapeHtml(results.command)}</code></span></li>`;
  });
  const body = `<h1>Recall Lab — Transformers, Mamba and a hybrid on associative recall</h1>
<p>Each model is trained on sequences of one length L and tested up to 3L; the reports plot accuracy against ` +
    `context length and training progress, with findings computed from the numbers.</p>
<ol class="problems">${items.join("")}</ol>
<p><a href="playground/index.html"><strong>Recall Playground</strong></a>: train the models in the browser and ` +
    `watch them learn (built by <code>deno task playground</code>, not by the sweeps: build it once first).</p>
<p>The homework answers as PDFs: <a href="hw3.pdf">hw3.pdf</a> (Problem 1; <a href="hw3-appendix.pdf">appendix</a>) ` +
    `and <a href="hw4.pdf">hw4.pdf</a> (Problems 2 and 3; <a href="hw4-appendix.pdf">appendix</a>), written beside ` +
    `this page by <code>deno task pdf</code>.</p>`;
  return documentHtml("Recall Lab — reports", body);
}
