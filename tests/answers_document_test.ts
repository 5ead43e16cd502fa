import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { answersHtml, type AuthoredAnswers } from "../lib/site/answers_document.ts";
import { renderProblemPage } from "../lib/site/page.ts";
import { lengthFigure } from "../lib/site/answer_figures.ts";
import { CheckedTextError } from "../lib/site/checked_text.ts";
import { fixtureResults, withAccuracy } from "./fixtures/results_fixture.ts";
import { loadProblems, withPage } from "../lib/site/pages.ts";
import { loadStudies } from "../studies/registry.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";

const TEXT = `## (a) Induction heads at τ = 1

{{ figure: p1-a }}

Mamba holds {{ acc(model="mamba", tau=1, at="3L") | range }} at 3L{{ check: min(acc(model="mamba", tau=1, at="3L")) >= 0.5 }}.

## (b) The delay

Nothing more.
`;

async function answersIn(dir: string, text: string): Promise<AuthoredAnswers> {
  const path = join(dir, "answers.md");
  await Deno.writeTextFile(path, text);
  return {
    source: pathToFileURL(path),
    figures: (results) => ({
      "p1-a": () => lengthFigure("p1-a", results.runs.filter((r) => r.config.tau === 1), "(a)"),
    }),
  };
}

Deno.test("a finished sweep's page opens with the glance table, contents, the answers and their figures", async () => {
  await withTempDir(async (dir) => {
    const answers = await answersIn(dir, TEXT);
    const p1 = (await loadProblems()).find((p) => p.id === "p1")!;
    const html = renderProblemPage({ ...p1, answers }, fixtureResults("p1"));
    assert.match(html, /<h2 id="results-at-a-glance">Results at a glance<\/h2><table class="glance">/);
    assert.match(html, /<nav class="toc"><h2>Contents<\/h2><ol><li><a href="#a-induction-heads-at-1">/);
    assert.match(html, /Mamba holds [\d.]+%( \[[\d.]+–[\d.]+%\])? at 3L\./);
    assert.match(html, /<figure class="chart" id="p1-a">/);
    assert.doesNotMatch(html, /id="p1-accuracy-part"/, "the appendix leaves out the accuracy chart the answers draw");
    assert.match(html, /id="p1-convergence-part"/, "and keeps the rest");
    assert.ok(html.indexOf("results-at-a-glance") < html.indexOf("How to read this"), "answers before the appendix");
    assert.match(html, /<script>\ndocument\.querySelectorAll\("figure\.chart"\)/, "legend entries toggle series");
    assert.ok(!/https?:\/\//.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")), "offline");
  });
});

Deno.test("when the data stops supporting a sentence the page is not built, and the error names the sentence", async () => {
  await withTempDir(async (dir) => {
    const answers = await answersIn(dir, TEXT);
    const results = withAccuracy(
      fixtureResults("p1"),
      (r) => r.config.model === "mamba" && r.config.tau === 1,
      96,
      0.2,
    );
    assert.throws(() => answersHtml(answers, results), (e: Error) => {
      assert.ok(e instanceof CheckedTextError);
      assert.match(e.message, /answers\.md: the check .* does not hold \(0\.2 >= 0\.5\), in the sentence "Mamba holds/);
      return true;
    });
  });
});

Deno.test("an unfinished sweep shows the glance table and says the answers wait for the rest of the runs", async () => {
  await withTempDir(async (dir) => {
    const answers = await answersIn(dir, "{{ check: false }}");
    const results = fixtureResults("p1", 4);
    const html = answersHtml(answers, results);
    assert.match(html, /4 of \d+ runs are in, so they are not shown yet/);
  });
});

Deno.test("answers are shown only for the study's own runs: a quick or changed-settings sweep gets a note instead", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "p1"));
    await Deno.writeTextFile(join(dir, "p1", "answers.md"), "{{ check: false }}");
    const p1 = await withPage((await loadStudies()).find((s) => s.id === "p1")!, pathToFileURL(`${dir}/`));
    const own = JSON.parse(await Deno.readTextFile(new URL("../reports/p1/results.json", import.meta.url)));
    assert.equal(p1.answers?.writtenFor?.(own), true, "the committed protocol runs are the study's own");
    const quick = fixtureResults("p1"); // L = 32, short budgets: not the study's settings
    assert.equal(p1.answers?.writtenFor?.(quick), false);
    assert.match(answersHtml(p1.answers!, quick), /written for the study's own settings; these runs were trained/);
  });
});

Deno.test("the authored answers have no line that Markdown would read as a quotation or a list", async () => {
  for await (const entry of Deno.readDir(new URL("../studies", import.meta.url))) {
    const path = new URL(`../studies/${entry.name}/answers.md`, import.meta.url);
    const text = await Deno.readTextFile(path).catch(() => null);
    if (text === null) continue;
    const bad = text.split("\n").map((line, i) => ({ line, n: i + 1 })).filter(({ line }) =>
      /^\s*(>|[-+*] |\d+\. )/.test(line)
    );
    assert.deepEqual(bad, [], `studies/${entry.name}/answers.md: a wrapped line starts like a quote or list item`);
  }
});
