/**
 * `deno task screens`: the recipe screens as a Markdown table (lib/recipes/): per screened setting with runs, how
 * many recipes ran and converged, the chosen recipe (chooseRecipe), its convergence step and accuracy at L, and
 * the runner-up. The source of the README's screen tables.
 */
import { join } from "node:path";
import { RECIPE_TABLE } from "../recipes/chosen.ts";
import { chooseRecipe, gridOf, recipeLabel, recipeOfRun, runOf, type ScreenSetting } from "../recipes/screen.ts";
import { readResultsFile } from "../store/results_file.ts";
import { accuracyAt, type RunResult } from "../store/results.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task screens [flags]

Print the recipe screens in <out>/recipes (from deno task recipes) as a Markdown table.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Reports folder holding recipes/." },
];

function recipeText(_s: ScreenSetting, r: RunResult): string {
  return `lr ${recipeOfRun(r).lr}`;
}

function atL(r: RunResult): string {
  return `${(100 * (accuracyAt(r, r.config.L) ?? 0)).toFixed(1)}%`;
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const state = await readResultsFile(join(f.out as string, "recipes"));
  if (state.kind !== "present") throw new UsageError(`no recipe screens in ${join(f.out as string, "recipes")}`);
  console.log("| setting (screen budget) | runs | converged | chosen recipe | converged at | acc at L | runner-up |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const row of RECIPE_TABLE) {
    const s = row.setting;
    const mine = state.results.runs.filter((r) =>
      runOf(s, r) && gridOf(s).some((g) => recipeLabel(s, g) === r.variant)
    );
    if (mine.length === 0) continue;
    const best = chooseRecipe(mine)!;
    const second = chooseRecipe(mine.filter((r) => r !== best));
    const next = second === null ? "—" : `${recipeText(s, second)} (${second.convergedStep ?? atL(second)})`;
    console.log(
      `| ${s.id} (tau=${s.tau}, ${s.steps} steps) | ${mine.length}/${gridOf(s).length} | ` +
        `${mine.filter((r) => r.convergedStep !== null).length} | ${recipeText(s, best)} | ` +
        `${best.convergedStep ?? "—"} | ${atL(best)} | ${next} |`,
    );
  }
});
