import assert from "node:assert/strict";
import { renderPage } from "./fixtures/registry.ts";
import { recipeSentence } from "../lib/report/recipes.ts";
import type { RunResult } from "../lib/runs/results.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

function recipeRuns(): RunResult[] {
  const nope = fixtureResults("p1").runs.find((r) => r.config.model === "tf-nope" && r.config.tau === 1)!;
  const at = (r: RunResult, acc: number): RunResult => ({
    ...r,
    status: "cap",
    verdict: "plateaued",
    convergedStep: null,
    accuracyByLength: r.accuracyByLength.map((a) => a.length === r.config.L ? { ...a, accuracy: acc } : a),
  });
  return [
    at({ ...nope, config: { ...nope.config, heads: 4, lr: 0.01 } }, 0.64),
    at({ ...nope, config: { ...nope.config, heads: 1, lr: 0.003 } }, 0.21),
  ];
}

Deno.test("the Problem 1 page shows the recipe sweep with a sentence computed from its runs", () => {
  const runs = recipeRuns();
  const sweep = { ...fixtureResults("p1"), problem: "recipes", planned: runs.length, runs };
  const html = renderPage(fixtureResults("p1"), sweep);
  assert.ok(html.includes("Training recipes tried"));
  const sentence = recipeSentence(runs);
  assert.match(sentence, /2 runs over heads 1, 4 and learning rates 0\.003, 0\.01/);
  assert.match(sentence, /none reached the 99% target/);
  assert.match(sentence, /The best, 4 heads at lr 0\.01, scored 64(\.0)?% at L/);
  const better = [...runs];
  better[1] = { ...runs[1], accuracyByLength: runs[1].accuracyByLength.map((a) => ({ ...a, accuracy: 0.9 })) };
  assert.match(recipeSentence(better), /The best, 1 heads at lr 0\.003, scored 90(\.0)?% at L/);
  assert.ok(!renderPage(fixtureResults("p1")).includes("Training recipes tried"));
  assert.ok(renderPage(sweep).includes("Training recipes tried"), "the sweep's own page shows the table");
});
