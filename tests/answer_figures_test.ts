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
  assert.deepEqual(split, ["Transformer, RoPE", "Mamba", "seed 0", "seed 1", "seed 2"]);
  assert.match(lengthFigure("f", runs([true, false, false]), "(a)"), /Transformer, RoPE: 1 of 3 converged/);
  assert.deepEqual(legendNames(lengthFigure("f", runs([true, true, true]), "(a)")), ["Transformer, RoPE", "Mamba"]);
  assert.match(
    lengthFigure("f", runs([true, false, true]), "(a)"),
    /stroke-dasharray="5 3"/,
    "the split mean is dashed",
  );
});

Deno.test("seeds that all fall short but lie far apart at L are drawn one by one, close ones as one mean line", () => {
  const atL = (accs: readonly number[]) =>
    accs.map((a, seed) => {
      const r = fixtureRun({ model: "mamba", M: 8, d: 8, tau: 1, seed, status: "cap" });
      const L = r.config.L;
      return { ...r, accuracyByLength: r.accuracyByLength.map((p) => p.length === L ? { ...p, accuracy: a } : p) };
    });
  assert.deepEqual(legendNames(lengthFigure("f", atL([0.07, 0.42, 0.69]), "(a)")), [
    "Mamba",
    "seed 0",
    "seed 1",
    "seed 2",
  ]);
  assert.deepEqual(legendNames(lengthFigure("f", atL([0.3, 0.35, 0.4]), "(a)")), ["Mamba"]);
});

Deno.test("the training figure has one line per seed, and every caption states the budget and each model's recipe", () => {
  const rs = runs([true, false, true]);
  assert.equal(legendNames(trainingFigure("c", rs, "(c)")).length, 6);
  const caption = recipeCaption(rs);
  assert.match(caption, /^Every run trained 4,000 steps at batch 64 \(PyTorch's default initialisation\)\./);
  assert.match(caption, /Transformer, RoPE: lr [\d.e-]+, 2 heads; Mamba: lr [\d.e-]+\./);
  assert.match(lengthFigure("f", [], "(a)"), /No finished runs yet/);
});

Deno.test("a model in several settings gets a line per setting, named by what differs, in shades of its colour", () => {
  const rs = [4, 8, 16].flatMap((M) => [0, 1].map((seed) => fixtureRun({ model: "mamba", M, d: 8, tau: 1, seed })));
  const html = lengthFigure("p2", rs, "(a)");
  assert.deepEqual(legendNames(html), ["Mamba, M = 4", "Mamba, M = 8", "Mamba, M = 16"]);
  const colors = [...html.matchAll(/<li data-series="[^"]*"><svg[^>]*><line [^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) =>
    m[1]
  );
  assert.equal(new Set(colors).size, 3, `three shades: ${colors.join(", ")}`);
  // One model in several settings: a panel per setting, and each seed one legend entry and colour across them.
  assert.deepEqual(legendNames(trainingFigure("p2t", rs, "(a)")), ["seed 0", "seed 1"]);
  assert.equal(
    legendNames(trainingFigure("p1t", runs([true, false, true]), "(c)")).filter((n) => n.endsWith("seed 0")).length,
    2,
    "several models: each model's seeds apart",
  );
});

Deno.test("a caption names each learning rate and budget with the settings it belongs to where they differ", () => {
  const run = (M: number, d: number, lr: number, steps: number) => {
    const r = fixtureRun({ model: "tf-rope", M, d, tau: 1, seed: 0 });
    return { ...r, config: { ...r.config, lr, steps } };
  };
  const caption = recipeCaption([run(4, 8, 1e-2, 4000), run(8, 8, 2.15e-3, 4000), run(4, 64, 1e-3, 6000)]);
  assert.match(caption, /^Runs trained 4,000 steps \(d = 8\) and 6,000 steps \(d = 64\)/, "one field tells them apart");
  assert.match(caption, /lr 1e-2 \(d = 8, M = 4\), 2\.15e-3 \(M = 8\) and 1e-3 \(d = 64\), 2 heads\./);
});

Deno.test("the training figure draws, per M > 1, the levels of k queries answered and the rest guessed", () => {
  const multi = [4, 8].map((M) => fixtureRun({ model: "mamba", M, d: 8, tau: 1, seed: 0 }));
  const html = trainingFigure("p2t", multi, "(a)");
  assert.match(html, /Dotted: the accuracy of a model that answers k of the M queries/);
  const dotted = (h: string) => (h.match(/stroke-dasharray="1 3"/g) ?? []).length;
  const ruleLines = (h: string) => (h.match(/<line /g) ?? []).length;
  assert.ok(dotted(html) >= 1, "the levels are drawn");
  const single = trainingFigure("p1t", [fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed: 0 })], "(c)");
  assert.doesNotMatch(single, /Dotted: the accuracy/);
  assert.ok(ruleLines(html) - ruleLines(single) >= 3 + 7, "3 levels at M = 4 and 7 at M = 8");
});
