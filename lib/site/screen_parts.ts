/**
 * The recipe screens on a report: per screened setting, a table of its runs (recipe, outcome, accuracy at L) and
 * two computed sentences: which recipe the screen chose, and whether that is the recipe the problems train with.
 */
import { accuracyAt, type RunResult } from "../store/results.ts";
import { chooseRecipe, gridOf, recipeLabel, recipeOfRun, runOf } from "../recipes/screen.ts";
import type { RecipeRow } from "../recipes/chosen.ts";
import { escapeHtml, pct, steps } from "./format.ts";
import type { Part } from "./view.ts";

function recipeText(heads: number, lr: number, init: string | null): string {
  return `${heads === 0 ? "" : `${heads} head${heads === 1 ? "" : "s"}, `}lr ${lr}${
    init === null ? "" : `, ${init} init`
  }`;
}

function outcome(r: RunResult): string {
  if (r.status === "diverged") return `diverged at step ${steps(r.divergedStep ?? r.stepsRun)}`;
  if (r.convergedStep !== null) return `converged at step ${steps(r.convergedStep)}`;
  return `not converged within ${steps(r.stepsRun)} steps`;
}

/** The sentences for one row: what the screen chose (from its runs) and whether the problems use it. */
export function screenSentences(row: RecipeRow, runs: readonly RunResult[]): string[] {
  const s = row.setting;
  const mine = runs.filter((r) => runOf(s, r));
  const planned = gridOf(s).length;
  const lead = `${s.id} (${s.model}, K = ${s.K}, d = ${s.d}, M = ${s.M}, τ = ${s.tau}; ${steps(s.steps)}-step screen)`;
  if (mine.length === 0) return [`${lead}: not screened yet (0 of ${planned} recipes finished).`];
  const best = chooseRecipe(mine)!;
  const b = recipeOfRun(best);
  const converged = mine.filter((r) => r.convergedStep !== null).length;
  const partial = mine.length < planned ? ` (${mine.length} of ${planned} recipes finished so far)` : "";
  const chose = `${lead}: ${converged} of ${mine.length} recipes converged${partial}; the best is ` +
    `${recipeText(b.heads, b.lr, b.init)}, ${outcome(best)}, ${pct(accuracyAt(best, best.config.L) ?? 0)} at L.`;
  const c = row.chosen;
  const use = c === null
    ? "The problems still train this setting with the model's default recipe: the table of chosen recipes " +
      "(lib/recipes/chosen.ts) has no entry for it yet."
    : c.heads === b.heads && c.lr === b.lr && c.init === b.init
    ? `The problems train this setting with that recipe (lib/recipes/chosen.ts).`
    : `The problems train this setting with ${recipeText(c.heads, c.lr, c.init)}, which is not the screen's best.`;
  return [chose, use];
}

function table(runs: readonly RunResult[]): string {
  const head = ["recipe", "verdict", "steps run", "converged at", "last check", "acc at L"];
  const rows = runs.map((r) => {
    const rec = recipeOfRun(r);
    const last = r.history.at(-1)?.accuracy;
    const a = accuracyAt(r, r.config.L);
    const cells = [
      recipeText(rec.heads, rec.lr, rec.init),
      r.verdict,
      steps(r.stepsRun),
      r.convergedStep === null ? "—" : steps(r.convergedStep),
      last === undefined ? "—" : pct(last),
      a === null ? "—" : pct(a),
    ];
    return `<tr>${
      cells.map((v, i) => `<td${i === 0 ? ' class="text"' : ""}>${escapeHtml(String(v))}</td>`).join("")
    }</tr>`;
  });
  return `<table class="runs"><thead><tr>${
    head.map((h, i) => `<th${i === 0 ? ' class="text"' : ""}>${escapeHtml(h)}</th>`).join("")
  }</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** One part per row that has runs (or a note when it has none). */
export function screenParts(rows: readonly RecipeRow[], runs: readonly RunResult[]): Part[] {
  return rows.map((row) => {
    const mine = runs.filter((r) => runOf(row.setting, r));
    const order = gridOf(row.setting).map((g) => recipeLabel(row.setting, g));
    const sorted = [...mine].sort((a, b) => order.indexOf(a.variant) - order.indexOf(b.variant));
    return {
      id: `screen-${row.setting.id}`,
      title: `Recipe screen: ${row.setting.id}`,
      chart: mine.length === 0 ? null : () => table(sorted),
      findings: [{ heading: null, sentences: screenSentences(row, runs) }],
      note: null,
    };
  });
}
