import assert from "node:assert/strict";
import { parseHTML } from "linkedom";
import { lengthFigure, recipeCaption, trainingFigure } from "../lib/site/answer_figures.ts";
import type { RunResult } from "../lib/store/results.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";

function runs(ropeConverged: readonly boolean[]): RunResult[] {
  return ropeConverged.flatMap((ok, seed) => [
    fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed }),
    fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed, status: ok ? "converged" : "cap" }),
  ]);
}

function legendNames(html: string): string[] {
  const doc = (parseHTML(html) as unknown as {
    document: { querySelectorAll(s: string): ArrayLike<{ getAttribute(name: string): string | null }> };
  }).document;
  return Array.from(doc.querySelectorAll("ul.legend li")).map((li) => li.getAttribute("data-series") ?? "");
}

Deno.test("a model whose seeds split gets a panel of its own with a line per seed; agreeing seeds one mean line", () => {
  const split = legendNames(lengthFigure("f", runs([true, false, false]), "(a)"));
  assert.deepEqual(split, [
    "Transformer, RoPE",
    "Transformer, RoPE, seed 0",
    "Transformer, RoPE, seed 1 (not converged)",
    "Transformer, RoPE, seed 2 (not converged)",
    "Mamba",
  ]);
  assert.deepEqual(legendNames(lengthFigure("f", runs([true, true, true]), "(a)")), ["Transformer, RoPE", "Mamba"]);
  assert.match(
    lengthFigure("f", runs([true, false, true]), "(a)"),
    /stroke-dasharray="5 3"/,
    "the split mean is dashed",
  );
});

Deno.test("the training figure has one line per seed, and every caption states the budget and each model's recipe", () => {
  const rs = runs([true, false, true]);
  assert.equal(legendNames(trainingFigure("c", rs, "(c)")).length, 6);
  const caption = recipeCaption(rs);
  assert.match(caption, /^Every run trained 4,000 steps at batch 64 \(PyTorch's default initialisation\)\./);
  assert.match(caption, /Transformer, RoPE: lr [\d.e-]+, 2 heads; Mamba: lr [\d.e-]+\./);
  assert.match(lengthFigure("f", [], "(a)"), /No finished runs yet/);
});
