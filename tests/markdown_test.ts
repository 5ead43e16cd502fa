import assert from "node:assert/strict";
import { inline, markdownHtml } from "../lib/site/markdown.ts";
import { glanceTable, rangeText } from "../lib/site/glance.ts";
import { fixtureRun } from "./fixtures/results_fixture.ts";

Deno.test("markdown: headings, paragraphs, lists, tables, emphasis and code, with HTML escaped", () => {
  const html = markdownHtml(
    "# (a) The delay\n\nMamba *keeps* **most** of it,\nat `3L` & beyond.\n\n- one\n- two <b>\n\n1. first\n2. second\n\n" +
      "| a | b |\n| --- | --: |\n| x | 1 |\n",
  );
  assert.match(html, /<h1 id="a-the-delay">\(a\) The delay<\/h1>/);
  assert.match(html, /<p>Mamba <em>keeps<\/em> <strong>most<\/strong> of it, at <code>3L<\/code> &amp; beyond\.<\/p>/);
  assert.match(html, /<ul><li>one<\/li><li>two &lt;b&gt;<\/li><\/ul>/);
  assert.match(html, /<ol><li>first<\/li><li>second<\/li><\/ol>/);
  assert.match(html, /<th>a<\/th><th class="num">b<\/th>.*<td>x<\/td><td class="num">1<\/td>/s);
  assert.equal(inline("2 * 3 * 4"), "2 * 3 * 4", "a lone star is not emphasis");
});

Deno.test("markdown: a figure line becomes the figure of its id, and an unknown id is an error", () => {
  const html = markdownHtml(
    "Text.\n\n{{ figure: p1-a }}\n\nMore.",
    (id) => id === "p1-a" ? "<figure>A</figure>" : undefined,
  );
  assert.match(html, /<p>Text\.<\/p>\n<figure>A<\/figure>\n<p>More\.<\/p>/);
  assert.throws(() => markdownHtml("{{ figure: nope }}"), /no figure "nope"/);
});

Deno.test("the glance table gives each setting's accuracy at L, 2L, 3L, steps to 99% and seeds converged", () => {
  const runs = [0, 1, 2].flatMap((seed) => [
    fixtureRun({ model: "mamba", M: 1, d: 8, tau: 1, seed }),
    fixtureRun({ model: "tf-rope", M: 1, d: 8, tau: 1, seed, status: seed === 0 ? "converged" : "cap" }),
  ]);
  const table = glanceTable(runs);
  const lines = table.split("\n");
  assert.equal(lines[0], "| model | at L | at 2L | at 3L | steps to 99% | converged |");
  assert.match(lines[2], /^\| Transformer, RoPE \| .* \| 1 of 3 \|$/, "models in the assignment's order");
  assert.match(lines[3], /^\| Mamba \| .* \| 3 of 3 \|$/);
  assert.equal(rangeText([0.95, 1, 0.97]), "97.3% [95–100%]");
  assert.equal(rangeText([1, 1]), "100%");
  assert.equal(rangeText([]), "—");
});
