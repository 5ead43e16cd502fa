/**
 * One homework's report as a single HTML document, printed to one PDF: a title block (course, homework, how and
 * when the PDF was made; for each problem the command, dates, machine, versions, backend, seeds and runs),
 * then each problem's report body exactly as its page draws it (lib/site/page.ts, in print form: no
 * navigation, the run table expanded) with its probe parts, then the code appendix. One document rather than
 * merged PDFs, so pages are numbered through the whole homework and figures are numbered in order.
 */
import type { ProblemDefinition } from "./pages.ts";
import type { ViewContext } from "./view.ts";
import type { ProblemResults } from "../store/results.ts";
import { documentHtml, problemBodyHtml, provenanceHtml } from "./page.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import type { LongEval, WhichWeights } from "../probes/long_file.ts";
import type { Part } from "./view.ts";
import { dateText, escapeHtml } from "./format.ts";
import { authored, COURSE, type Homework, homeworkTitle } from "./homework.ts";
import { ANSWERS_CSS, answersHtml } from "./answers_document.ts";

/** A problem of the homework with what its page shows. */
export interface HomeworkProblem {
  readonly problem: ProblemDefinition;
  readonly results: ProblemResults;
  /** Parts appended after the view's (the probes), as on the problem's page. */
  readonly extraParts: readonly Part[];
  /** The probe results of its runs, by key (empty without probes), for the answers. */
  readonly probes: ReadonlyMap<string, ProbeResult>;
  /** The long evaluations of its runs, by key (absent without any), for the answers. */
  readonly long?: ReadonlyMap<string, Partial<Record<WhichWeights, LongEval>>>;
}

/** How the PDF is being made, for the title block. */
export interface MadeBy {
  readonly command: string;
  /** ISO date. */
  readonly at: string;
  /** Chromium's `--version` line. */
  readonly browser: string;
}

/** Print styles of the homework document, after the report's own (page.ts, which already has @media print). */
function homeworkCss(hw: Homework): string {
  const footer = `Homework ${hw.number}`.replaceAll('"', "");
  return `
@page { @bottom-center { content: "${footer} · page " counter(page) " of " counter(pages); } }
body { counter-reset: figure; }
figure.chart { counter-increment: figure; }
figure.chart figcaption::before { content: "Figure " counter(figure) ". "; font-weight: 600; color: #1f2328; }
.titleblock .course { font-size: 11pt; color: #59636e; margin: 0 0 4px; }
.titleblock h1 { font-size: 20pt; margin: 0 0 8px; }
.titleblock .made { font-size: 9.5pt; margin: 0 0 10px; }
.titleblock h2 { font-size: 12pt; border: 0; margin: 14px 0 4px; padding: 0; }
.titleblock dl.meta { font-size: 9pt; }
article.problem + article.problem { break-before: page; }
article.problem > header h1 { margin-top: 18px; padding-top: 10px; border-top: 2px solid #1f2328; }
.appendix { break-before: page; }
.appendix h1 { font-size: 16pt; }
.appendix h2 { border: 0; }
.appendix .listing h3 { font-size: 10pt; margin: 14px 0 4px; break-after: avoid; }
.appendix .listing h3 code { font-size: 10pt; }
.appendix .listing .lines { color: #59636e; font-weight: normal; }
.appendix pre { margin: 0; font: 7pt/1.32 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.appendix pre code { font: inherit; background: none; padding: 0; }
.appendix .ln { color: #8c959f; }
@media screen { main { max-width: 8.5in; } }
`;
}

function titleBlockHtml(hw: Homework, problems: readonly HomeworkProblem[], made: MadeBy): string {
  const provenance = problems.map(({ problem, results }) =>
    `<section class="provenance"><h2>${escapeHtml(problem.title)}</h2>${provenanceHtml(results)}</section>`
  ).join("");
  return `<header class="titleblock"><p class="course">${escapeHtml(COURSE)} · Recall Lab</p>
<h1>${escapeHtml(homeworkTitle(hw))}</h1>
<p class="made">This PDF was made with <code>${escapeHtml(made.command)}</code> on ${escapeHtml(dateText(made.at))} (${
    escapeHtml(made.browser)
  }) from the results files of the runs below; every figure and finding is ` +
    `computed from them. The appendix lists the code that produced them.</p>
${provenance}</header>`;
}

/**
 * The answers document of a homework whose problems all have authored answers: a short title block, then per
 * problem its results at a glance and its answers with their figures. Everything else is in the appendix PDF.
 */
export function homeworkAnswersHtml(
  hw: Homework,
  problems: readonly HomeworkProblem[],
  context: ViewContext,
  made: MadeBy,
): string {
  const bodies = problems.map(({ problem, results, probes, long }) =>
    `<article class="problem" id="problem-${escapeHtml(problem.id)}"><header><h1>${
      escapeHtml(problem.title)
    }</h1></header>${
      answersHtml(problem.answers!, results, {
        studies: context.results,
        probes,
        long,
        studyProbes: context.studyProbes,
      })
    }</article>`
  );
  const title = `<header class="titleblock"><p class="course">${escapeHtml(COURSE)} · Recall Lab</p>
<h1>${escapeHtml(homeworkTitle(hw))}</h1>
<p class="made">Every number and figure below is computed from the results of the runs when this document is made ` +
    `(${escapeHtml(dateText(made.at))}); the companion appendix holds every further chart, the probes, the table of ` +
    `every run and the code.</p></header>`;
  return documentHtml(
    `Recall Lab — ${homeworkTitle(hw)}`,
    `${title}\n${bodies.join("\n")}`,
    homeworkCss(hw) + ANSWERS_CSS,
  );
}

/** The whole document of one homework (its appendix, when the homework has authored answers). */
export function homeworkHtml(
  hw: Homework,
  problems: readonly HomeworkProblem[],
  context: ViewContext,
  appendix: string,
  made: MadeBy,
): string {
  const withoutAnswers = authored(hw, context.results);
  const bodies = problems.map(({ problem, results, extraParts, probes }) =>
    `<article class="problem" id="problem-${escapeHtml(problem.id)}">${
      problemBodyHtml(problem, results, { ...context, probes }, extraParts, { print: true, withoutAnswers })
    }</article>`
  );
  const body = `${titleBlockHtml(hw, problems, made)}\n${bodies.join("\n")}\n${appendix}`;
  return documentHtml(`Recall Lab — ${homeworkTitle(hw)}`, body, homeworkCss(hw));
}
