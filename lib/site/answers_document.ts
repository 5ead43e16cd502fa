/**
 * A problem's authored answers as HTML: the results at a glance (lib/site/glance.ts), a table of contents, then
 * the answers Markdown beside the problem with its numbers filled and its checks held against the results
 * (checked_text.ts) and its figures placed (answer_figures.ts via the problem's `figures`).
 *
 * The text is written for a finished sweep: while runs are missing its checks would judge an unfinished
 * experiment, so the answers wait (the glance table shows what is in) and say how many runs are still to come. Once
 * every planned run is in, a check that does not hold stops the build with the sentence it belongs to.
 */
import type { ProblemResults } from "../store/results.ts";
import { fill } from "./checked_text.ts";
import { ANSWER_FORMATS, answerFunctions, type AnswerSources } from "./answer_functions.ts";
import { glanceTable } from "./glance.ts";
import { markdownHtml } from "./markdown.ts";
import { escapeHtml } from "./format.ts";

/** The authored answers of a problem: where their Markdown lives and the figures they place by id. */
export interface AuthoredAnswers {
  /** The Markdown source, beside the problem's module. */
  readonly source: URL;
  /** Figure HTML by id, drawn from the results on demand. */
  figures(results: ProblemResults): Readonly<Record<string, () => string>>;
  /**
   * Whether these results are the experiment the answers were written for (the study's own settings); false for a
   * --quick smoke run or changed settings, whose numbers the text does not describe. Absent: always.
   */
  writtenFor?(results: ProblemResults): boolean;
}

/** The table of contents of `html`: a link to every h2 with an id. */
function contents(html: string): string {
  const items = [...html.matchAll(/<h2 id="([^"]+)">(.*?)<\/h2>/g)].map(([, id, text]) =>
    `<li><a href="#${id}">${text}</a></li>`
  );
  return items.length === 0 ? "" : `<nav class="toc"><h2>Contents</h2><ol>${items.join("")}</ol></nav>`;
}

/** Whether every planned run of `results` is in. */
export function sweepComplete(results: ProblemResults): boolean {
  return results.runs.length === results.planned && (results.pending?.length ?? 0) === 0;
}

/**
 * The answers section of `results`: glance table, contents and answers. Throws CheckedTextError (naming the file
 * and the sentence) when a complete sweep no longer supports a sentence.
 */
/** Whether `answersHtml` shows the authored answers for these results (not a note saying why it does not). */
export function answersShown(answers: AuthoredAnswers, results: ProblemResults): boolean {
  return (answers.writtenFor === undefined || answers.writtenFor(results)) && sweepComplete(results);
}

export function answersHtml(answers: AuthoredAnswers, results: ProblemResults, sources: AnswerSources = {}): string {
  const glance = `<section class="glance"><h2 id="results-at-a-glance">Results at a glance</h2>${
    markdownHtml(glanceTable(results.runs))
  }</section>`;
  if (answers.writtenFor !== undefined && !answers.writtenFor(results)) {
    return `${glance}<p class="note-empty">The answers are written for the study's own settings; these runs were ` +
      `trained with others (a quick run, or changed settings), so they are not shown.</p>`;
  }
  if (!sweepComplete(results)) {
    return `${glance}<p class="note-empty">The answers are written for the whole experiment: ${results.runs.length} ` +
      `of ${results.planned} runs are in, so they are not shown yet.</p>`;
  }
  const source = Deno.readTextFileSync(answers.source);
  const name = answers.source.pathname.split("/").slice(-2).join("/");
  const text = fill(source, name, answerFunctions(results.runs, sources), ANSWER_FORMATS);
  const figures = answers.figures(results);
  const body = markdownHtml(text, (id) => figures[id]?.());
  return `${glance}${contents(body)}<section class="answers">${body}</section>`;
}

/** Inline styles of the answers section (after the page's own). */
export const ANSWERS_CSS = `
table.glance { border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }
table.glance th, table.glance td { padding: 3px 8px; border-bottom: 1px solid #e3e5e8; text-align: left; }
table.glance .num { text-align: right; font-variant-numeric: tabular-nums; }
nav.toc ol { margin: 4px 0 0; }
section.answers p { max-width: 46em; }
ul.legend li[data-series] { cursor: pointer; }
ul.legend li.off { opacity: 0.35; }
@media print { nav.toc { display: none; } table.glance { font-size: 8.5pt; } }
`;

/**
 * The few lines that let a reader hide and show a figure's series by clicking its legend entry (pages only; the
 * figure is complete without them, as on paper).
 */
export const LEGEND_SCRIPT = `<script>
document.querySelectorAll("figure.chart").forEach((fig) => fig.querySelectorAll("li[data-series]").forEach((li) =>
  li.addEventListener("click", () => {
    const off = li.classList.toggle("off");
    fig.querySelectorAll("[aria-label]").forEach((el) => {
      if (el.getAttribute("aria-label") === li.dataset.series) el.style.display = off ? "none" : "";
    });
  })));
</script>`;

/** Escaped text for a page note. */
export function noteHtml(text: string): string {
  return `<p class="note-empty">${escapeHtml(text)}</p>`;
}
