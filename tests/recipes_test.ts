import assert from "node:assert/strict";
import { join } from "node:path";
import { COLLAPSED, RECIPE_TABLE, recipeFor, takeUnscreened } from "../lib/recipes/chosen.ts";
import { collapsed } from "../lib/recipes/protocol.ts";
import { unscreenedRefusal } from "../lib/cli/problem.ts";
import {
  chooseRecipe,
  gridOf,
  recipeLabel,
  recipeOfRun,
  runOf,
  SCREEN_LRS,
  screenConfig,
} from "../lib/recipes/screen.ts";
import { modelSpec } from "../lib/models/model_table.ts";
import { screenSentences } from "../lib/site/screen_parts.ts";
import { readResultsFile } from "../lib/store/results_file.ts";
import type { RunResult } from "../lib/store/results.ts";
import { runKey } from "../lib/store/run_key.ts";
import { resolve } from "../lib/training/config.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("every setting screens the same learning-rate grid at half its budget, each run with its own key", async () => {
  const keys = new Set<string>();
  for (const row of RECIPE_TABLE) {
    const s = row.setting;
    const grid = gridOf(s);
    assert.deepEqual(grid.map((r) => r.lr), [...SCREEN_LRS], `${s.id}: the same grid for every model`);
    const labels = new Set(grid.map((r) => recipeLabel(s, r)));
    assert.equal(labels.size, grid.length, `${s.id}: labels are unique`);
    for (const r of grid) {
      const c = screenConfig(s, r, 64, 0, {});
      const resolved = resolve(c); // every grid point is a valid config
      assert.equal(resolved.steps, s.steps);
      assert.equal(resolved.heads, modelSpec(s.model).mixers.includes("attention") ? 2 : 0, `${s.id}: 2 heads`);
      assert.equal(resolved.init, "pytorch", `${s.id}: one initialisation for every model`);
      keys.add(await runKey(c));
    }
  }
  const total = RECIPE_TABLE.reduce((n, row) => n + gridOf(row.setting).length, 0);
  assert.equal(keys.size, total, "no two screen runs share a key");
});

function run(base: RunResult, lr: number, convergedStep: number | null, atL: number): RunResult {
  return {
    ...base,
    config: { ...base.config, lr },
    status: convergedStep === null ? "cap" : "converged",
    convergedStep,
    accuracyByLength: base.accuracyByLength.map((a) => a.length === base.config.L ? { ...a, accuracy: atL } : a),
  };
}

Deno.test("the screen chooses the best accuracy at L, all solved runs tying, then the first to converge", () => {
  const base = fixtureResults("p1").runs[0];
  const slow = run(base, 1e-3, 4000, 0.995), fast = run(base, 1e-2, 2500, 0.991), flat = run(base, 1e-4, null, 0.3);
  assert.equal(chooseRecipe([slow, fast, flat]), fast);
  assert.equal(chooseRecipe([slow, run(base, 1e-2, 5000, 1), flat]), slow, "earlier convergence wins among solved");
  assert.equal(chooseRecipe([run(base, 1e-3, 4000, 0.97), run(base, 1e-2, null, 0.98)])?.config.lr, 1e-2);
  const a = run(base, 1e-3, null, 0.42), b = run(base, 1e-2, null, 0.61);
  assert.equal(chooseRecipe([a, b]), b);
  assert.equal(chooseRecipe([run(base, 1e-3, null, 0.7), b])?.config.lr, 1e-3, "the choice flips with the numbers");
  assert.equal(chooseRecipe([]), null);
});

Deno.test("the recipe table follows the committed screens: filled rows are their screen's winner", async () => {
  const state = await readResultsFile(join(ROOT, "reports", "recipes"));
  const runs = state.kind === "present" ? state.results.runs : [];
  for (const row of RECIPE_TABLE) {
    const s = row.setting;
    const mine = runs.filter((r) => runOf(s, r) && gridOf(s).some((g) => recipeLabel(s, g) === r.variant));
    const complete = mine.length === gridOf(s).length;
    if (row.chosen === null) {
      assert.ok(!complete, `${s.id}: its screen has finished; enter its winner in lib/recipes/chosen.ts`);
      assert.deepEqual(recipeFor(s.id), {});
      continue;
    }
    assert.ok(complete, `${s.id}: a chosen recipe needs its whole screen committed (${mine.length} runs found)`);
    const skipped = COLLAPSED[s.id] ?? [];
    const ranked = mine.filter((r) => !skipped.includes(r.config.lr));
    assert.equal(recipeOfRun(chooseRecipe(ranked)!).lr, row.chosen.lr, `${s.id}: the table differs from its screen`);
    assert.equal(recipeFor(s.id).lr, row.chosen.lr);
  }
});

Deno.test("a screen's sentences say what it chose and whether the problems use it", () => {
  const row = RECIPE_TABLE.find((r) => r.setting.id === "p1-tf-nope-tau1")!;
  const base = fixtureResults("p1").runs.find((r) => r.config.model === "tf-nope" && r.config.tau === 1)!;
  const runs = [run(base, 1e-2, null, 0.64), run(base, 2.15e-3, null, 0.21)];
  const [chose, use] = screenSentences(row, runs);
  assert.match(
    chose,
    /p1-tf-nope-tau1 .*: 0 of 2 recipes converged \(2 of \d+ recipes finished so far\); the best is .*lr 0\.01/,
  );
  assert.match(chose, /64(\.0)?% at L/);
  assert.match(
    screenSentences(row, [runs[0], run(base, 2.15e-3, 3000, 0.995)])[0],
    /the best is .*lr 0\.00215.*converged at step 3,000/,
  );
  assert.match(use, row.chosen === null ? /default recipe/ : /train this setting/);
  assert.match(screenSentences(row, [])[0], /not screened yet/);
});

Deno.test("a problem is refused before any work while a setting it trains has no screened lr, unless one is given", () => {
  takeUnscreened();
  for (const row of RECIPE_TABLE) recipeFor(row.setting.id);
  const unscreened = RECIPE_TABLE.filter((r) => r.chosen === null).map((r) => r.setting.id);
  assert.deepEqual(takeUnscreened(), unscreened, "recipeFor notes exactly the unscreened settings asked for");
  assert.deepEqual(takeUnscreened(), [], "and taking them clears the list");
  assert.match(
    unscreenedRefusal("p3", ["p3-mamba-d64-M4", "p3-mamba-d64-M8"], false)!,
    /^p3: no screened learning rate yet for p3-mamba-d64-M4, p3-mamba-d64-M8; run their screens .* or give --lr$/,
  );
  assert.equal(unscreenedRefusal("p3", ["p3-mamba-d64-M4"], true), null, "an explicit lr trains anyway");
  assert.equal(unscreenedRefusal("p3", [], false), null);
});

/** Every committed problem run (not the screens'), from the run files of every folder under reports/. */
async function problemRuns(): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for await (const study of Deno.readDir(join(ROOT, "reports"))) {
    if (!study.isDirectory || study.name === "recipes" || study.name === "archive") continue;
    const dir = join(ROOT, "reports", study.name, "runs");
    let names: string[] = [];
    try {
      names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^[0-9a-f]{16}\.json$/.test(n));
    } catch {
      continue;
    }
    for (const n of names) out.push(JSON.parse(await Deno.readTextFile(join(dir, n))));
  }
  return out;
}

Deno.test("collapse: no committed run at a chosen rate collapsed, and every rate the table skips has one that did", async () => {
  const runs = await problemRuns();
  const of = (id: string, lr: number) => {
    const s = RECIPE_TABLE.find((r) => r.setting.id === id)!.setting;
    return runs.filter((r) =>
      r.config.model === s.model && r.config.d === s.d && r.config.M === s.M && r.config.tau === s.tau &&
      r.config.K === s.K && r.config.lr === lr
    );
  };
  for (const row of RECIPE_TABLE) {
    if (row.chosen === null) continue;
    const bad = of(row.setting.id, row.chosen.lr).filter((r) => collapsed(r.history));
    assert.deepEqual(bad.map((r) => r.key), [], `${row.setting.id}: runs at its chosen rate collapsed`);
  }
  for (const [id, lrs] of Object.entries(COLLAPSED)) {
    for (const lr of lrs) {
      assert.ok(of(id, lr).some((r) => collapsed(r.history)), `${id}: no committed run at lr ${lr} collapsed`);
    }
  }
});

Deno.test("a run has collapsed when its last check is more than 20 points below its best", () => {
  const h = (...a: number[]) => a.map((accuracy) => ({ accuracy }));
  assert.equal(collapsed(h(0.1, 1, 1, 0.06)), true);
  assert.equal(collapsed(h(0.1, 0.5, 0.9, 0.75)), false, "15 points below its best");
  assert.equal(collapsed(h(0.1, 0.5, 1)), false);
  assert.equal(collapsed([]), false);
});
