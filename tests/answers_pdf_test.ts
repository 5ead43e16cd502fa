/**
 * A homework whose problems all have authored answers prints as two PDFs: the answers (results at a glance, the
 * answers and their figures) and an appendix with everything else. Printed for real with Chromium, from fixture
 * results; ignored with one line when Chromium is missing, unless RECALL_LAB_REQUIRE_BROWSER=1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CHROMIUM_INSTALL, chromiumPath, probeChromium } from "../lib/platform/chromium.ts";
import { loadProblems } from "../lib/site/pages.ts";
import { writeHomeworkPdfs } from "../lib/site/write_pdfs.ts";
import { lengthFigure, trainingFigure } from "../lib/site/answer_figures.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";

const REQUIRE = Deno.env.get("RECALL_LAB_REQUIRE_BROWSER") === "1";
const browser = await probeChromium();
if (!browser.ok && !REQUIRE) {
  console.error(`answers_pdf_test: ignored: ${browser.reason}; install it with: ${CHROMIUM_INSTALL}`);
}

const ANSWERS = `## (a) τ = 1

{{ figure: a }}

Mamba reaches {{ mean(acc(model="mamba", tau=1, at="L")) | pct }} at L.

## (c) Convergence

{{ figure: c }}
`;

Deno.test({
  name: "a homework with authored answers prints a short answers PDF and a separate appendix",
  ignore: !browser.ok && !REQUIRE,
  async fn() {
    await withTempDir(async (dir) => {
      const results = fixtureResults("p1");
      await Deno.mkdir(join(dir, "p1"));
      await Deno.writeTextFile(join(dir, "p1", "results.json"), JSON.stringify(results));
      await Deno.writeTextFile(join(dir, "answers.md"), ANSWERS);
      const tau1 = results.runs.filter((r) => r.config.tau === 1);
      const problems = (await loadProblems()).map((p) =>
        p.id !== "p1" ? p : {
          ...p,
          answers: {
            source: pathToFileURL(join(dir, "answers.md")),
            figures: () => ({ a: () => lengthFigure("a", tau1, "(a)"), c: () => trainingFigure("c", tau1, "(c)") }),
          },
        }
      );
      const written = await writeHomeworkPdfs(dir, problems, {
        chromium: chromiumPath(),
        browser: browser.ok ? browser.version : "",
        command: "deno task pdf",
        only: [3],
        noProbes: true,
        log: () => {},
      });
      assert.deepEqual(written.map((w) => w.path.split("/").at(-1)), ["hw3.pdf", "hw3-appendix.pdf"]);
      const [answers, appendix] = written;
      assert.ok(answers.pages >= 1 && answers.pages <= 4, `answers: ${answers.pages} pages`);
      assert.ok(appendix.pages > answers.pages, `appendix: ${appendix.pages} pages`);
    });
  },
});
