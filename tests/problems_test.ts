import { withoutLegendScript } from "./fixtures/offline.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHTML } from "linkedom";
import { checkProblemResults, type ProblemResults } from "../lib/store/results.ts";
import { MODEL_NAMES } from "../lib/models/model_table.ts";

const ROOT = new URL("..", import.meta.url).pathname;

interface Dom {
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null; textContent: string }>;
}

function dom(html: string): Dom {
  return (parseHTML(html) as unknown as { document: Dom }).document;
}

async function quick(
  problem: string,
  out: string,
  extra: readonly string[] = [],
): Promise<{ results: ProblemResults; html: string; stderr: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(ROOT, "lib", "cli", "problem.ts"), problem, "--quick", "--out", out, ...extra],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 0, stderr);
  const results = JSON.parse(await Deno.readTextFile(join(out, problem, "results.json")));
  checkProblemResults(results);
  return { results, html: await Deno.readTextFile(join(out, problem, "index.html")), stderr };
}

const EXPECTED: Record<string, { runs: number; models: string[]; lines: number }> = {
  p1: { runs: 2 * MODEL_NAMES.length, models: [...MODEL_NAMES], lines: 2 * MODEL_NAMES.length },
  p2: { runs: 12, models: ["mamba", "tf-rope", "hybrid"], lines: 12 },
  p3: { runs: 7, models: ["mamba"], lines: 6 },
};

Deno.test("--quick runs of p1, p2 and p3 write valid results and offline reports with one line per model", async () => {
  const out = await Deno.makeTempDir();
  try {
    for (const problem of ["p1", "p2", "p3"]) {
      // Problem 1 as the README's --quick runs it (it learns); Problems 2 and 3 cut short, for the pipeline only.
      const { results, html, stderr } = await quick(problem, out, problem === "p1" ? [] : ["--steps", "30"]);
      const want = EXPECTED[problem];
      // The sweep says how much is left as it goes, and what it did at the end, with the problem's headline.
      assert.match(stderr, /\d+\/\d+ runs finished; about .* of training left for the \d+ not started/);
      // (p3 reuses p2's d = 8 Mamba runs, and says so apart from those it trained.)
      assert.match(
        stderr,
        new RegExp(
          `${problem}: \\d+ run\\(s\\) trained, (\\d+ reused from other problems, )?\\d+ found finished in .*\\. \\S`,
        ),
      );
      assert.equal(results.runs.length, want.runs, problem);
      assert.equal(results.planned, want.runs, problem);
      assert.deepEqual([...new Set(results.runs.map((r) => r.config.model))].sort(), [...want.models].sort());
      for (const run of results.runs) {
        assert.equal(run.accuracyByLength[0].length, run.config.tau + 2);
        assert.deepEqual(run.accuracyByLength.slice(-2).map((a) => a.length), [3 * run.config.L, 4 * run.config.L]);
        assert.ok(run.backend.backend === "wasm" && typeof run.backend.simd === "boolean");
        // each run's own worker process: a plausible, measured peak (not the test process's)
        const rss = run.timing.peakRssMb ?? 0;
        assert.ok(rss > 50 && rss < 600, `${problem}: peak RSS ${rss} MB`);
      }
      const lines = Array.from(dom(html).querySelectorAll(`#${problem}-accuracy path[aria-label^="accuracy line: "]`));
      assert.equal(lines.length, want.lines, `${problem}: accuracy lines`);
      assert.ok(!html.includes("NaN"), `${problem}: NaN in the page`);
      // Every figure's caption states the budget and each model's learning rate.
      assert.match(html, new RegExp(`Every run trained ${problem === "p1" ? 600 : 30} steps at batch 32`), problem);
      assert.ok(!/<script|https?:\/\//.test(withoutLegendScript(html)), `${problem}: page is not self-contained`);
      const named = lines.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute("aria-label"));
      for (const model of want.models) {
        assert.ok(named.some((n) => n.includes(model)), `${problem}: no accuracy line of ${model}`);
      }
    }
    // --quick shows real learning: Problem 1's Mamba and Hybrid converge at tau = 1.
    const p1 = JSON.parse(await Deno.readTextFile(join(out, "p1", "results.json"))) as ProblemResults;
    for (const model of ["mamba", "hybrid"]) {
      const run = p1.runs.find((r) => r.config.model === model && r.config.tau === 1)!;
      assert.equal(run.status, "converged", `${model} at tau = 1 learns in --quick (${run.history.at(-1)?.accuracy})`);
    }
    const index = await Deno.readTextFile(join(out, "index.html"));
    for (const problem of ["p1", "p2", "p3"]) assert.ok(index.includes(`${problem}/index.html`), problem);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
