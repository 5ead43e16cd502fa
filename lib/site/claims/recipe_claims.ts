/**
 * Claims about the screened recipes (lib/recipes/): whether the recipe a setting's screen chose on one seed
 * converged again on the seeds the problem adds. A screen picks among two dozen recipes on one seed, so its
 * winner may owe part of its win to that seed; the problem's other seeds are the test of that.
 */
import type { Claim } from "../answers.ts";
import { RECIPE_TABLE } from "../../recipes/chosen.ts";
import { recipeOfRun, runOf } from "../../recipes/screen.ts";
import type { Series } from "../series.ts";
import { listText, steps } from "../format.ts";

/** The seed the recipe screens train (studies/recipes/study.ts: one seed, the default first). */
export const SCREEN_SEED = 0;

function screenedRow(s: Series): (typeof RECIPE_TABLE)[number] | null {
  const run = s.runs[0];
  const row = RECIPE_TABLE.find((r) => r.chosen !== null && runOf(r.setting, run));
  if (row === undefined || row.chosen === null) return null;
  const used = recipeOfRun(run), chosen = row.chosen;
  const same = used.lr === chosen.lr;
  return same ? row : null;
}

/**
 * A screened recipe on the problem's seeds, when it converged on some of them but not all: only on the screen's
 * own seed (the pick did not carry), on it and some new seeds, or on new seeds but not on the screen's.
 */
export const screenConfirmationClaim: Claim = (e) =>
  e.series.flatMap((s) => {
    const row = screenedRow(s);
    if (row === null || s.runs.length < 2) return [];
    const ok = s.runs.filter((r) => r.verdict === "converged");
    if (ok.length === 0 || ok.length === s.runs.length) return [];
    const others = s.runs.filter((r) => r.config.seed !== SCREEN_SEED);
    const newOk = others.filter((r) => r.verdict === "converged");
    const screenRun = s.runs.find((r) => r.config.seed === SCREEN_SEED);
    const seeds = (rs: typeof s.runs) =>
      `seed${rs.length === 1 ? "" : "s"} ${listText(rs.map((r) => String(r.config.seed)))}`;
    const head = `${e.name(s)} trains with the recipe its screen (${row.setting.id}) chose on seed ${SCREEN_SEED}`;
    if (screenRun?.verdict === "converged" && newOk.length === 0) {
      return [
        `${head}; it converged again on that seed (at ${steps(screenRun.convergedStep ?? 0)} steps) and on none ` +
        `of the ${others.length} new seeds: the pick did not carry beyond the seed it was chosen on, so one ` +
        `seed's success here says little about the recipe.`,
      ];
    }
    if (screenRun?.verdict === "converged") {
      return [
        `${head}; it converged on that seed and on ${newOk.length} of the ${others.length} new seeds (${
          seeds(newOk)
        }): the recipe works, but not reliably.`,
      ];
    }
    return [
      `${head}; it converged on ${newOk.length} of the ${others.length} new seeds (${seeds(newOk)}) but not on ` +
      `the screen's own seed${
        screenRun === undefined ? "" : ` given ${steps(screenRun.stepsRun)} steps`
      }: the recipe can work, but not reliably.`,
    ];
  });
