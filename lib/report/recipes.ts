/**
 * Recipe evidence on a report: runs of one model under several training recipes (heads, learning rate, step
 * cap), from the recipe sweep (`deno task recipes`, <out>/recipes/), shown as a table with a sentence computed
 * from it. This is where a model that does not learn shows what was tried.
 */
import { endingOf } from "./ending.ts";
import { accuracyAt, type RunResult } from "../runs/results.ts";
import { escapeHtml, pct, steps } from "./format.ts";
import type { Part } from "./view.ts";

function atL(r: RunResult): number | null {
  return accuracyAt(r, r.config.L);
}

/** One sentence summarising the sweep: what was varied and the best result. */
export function recipeSentence(runs: readonly RunResult[]): string {
  if (runs.length === 0) return "";
  const model = runs[0].config.model;
  const heads = [...new Set(runs.map((r) => r.config.heads))].sort((a, b) => a - b);
  const lrs = [...new Set(runs.map((r) => r.config.lr))].sort((a, b) => a - b);
  const maxSteps = Math.max(...runs.map((r) => r.stepsRun));
  const best = runs.reduce((a, b) => ((atL(b) ?? -1) > (atL(a) ?? -1) ? b : a));
  const converged = runs.filter((r) => r.status === "converged");
  const verdict = converged.length === 0
    ? `none reached the 99% target`
    : `${converged.length} of ${runs.length} reached the 99% target (first at step ${
      steps(Math.min(...converged.map((r) => r.convergedStep ?? Infinity)))
    })`;
  return `Recipe sweep for ${model}: ${runs.length} runs over heads ${heads.join(", ")} and learning rates ` +
    `${lrs.join(", ")}, up to ${steps(maxSteps)} steps each; ${verdict}. The best, ${best.config.heads} heads at ` +
    `lr ${best.config.lr}, scored ${pct(atL(best) ?? 0)} at L after ${steps(best.stepsRun)} steps.`;
}

/** The runs as an HTML table (recipe, status, last held-out check, accuracy at L). */
export function recipesTable(runs: readonly RunResult[]): string {
  const rows = runs.map((r) => {
    const c = r.config;
    const last = r.history.at(-1)?.accuracy;
    const cells = [
      c.model,
      c.heads,
      c.lr,
      c.warmup,
      c.clip,
      c.seed,
      steps(c.steps),
      endingOf(r),
      steps(r.stepsRun),
      last === undefined ? "—" : pct(last),
      atL(r) === null ? "—" : pct(atL(r)!),
    ];
    return `<tr>${cells.map((v) => `<td>${escapeHtml(String(v))}</td>`).join("")}</tr>`;
  });
  const head = [
    "model",
    "heads",
    "lr",
    "warm-up",
    "clip",
    "seed",
    "base cap",
    "ending",
    "steps run",
    "last check",
    "acc at L",
  ];
  return `<table class="runs"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table><p class="caption">Runs from <code>deno task recipes</code> ` +
    `(reports/recipes/), at the Problem 1 setting with τ = 1.</p>`;
}

/** The recipe sweep as a report part: the table, with its sentence as the finding. */
export function recipesPart(runs: readonly RunResult[]): Part {
  return {
    id: "recipes",
    title: "Training recipes tried",
    chart: () => recipesTable(runs),
    findings: [{ heading: null, sentences: [recipeSentence(runs)] }],
    note: null,
  };
}
