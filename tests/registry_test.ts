import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHTML } from "linkedom";
import { STUDIES_DIR as PROBLEMS_DIR } from "../studies/registry.ts";
import { runProblem } from "../lib/cli/problem.ts";
import { writeReports } from "../lib/site/write.ts";
import { renderProblemPage } from "../lib/site/page.ts";
import { checkProblemResults } from "../lib/store/results.ts";
import { study as kSweepStudy } from "./fixtures/k_sweep.ts";
import { withPage } from "../lib/site/pages.ts";
import { REGISTRY } from "./fixtures/registry.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("every folder of studies/ is registered under its name, and each has its deno task", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(PROBLEMS_DIR)) if (e.isDirectory) files.push(e.name);
  assert.deepEqual(REGISTRY.map((p) => p.id).sort(), files.sort());
  const tasks = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks as Record<
    string,
    { command: string; description: string }
  >;
  for (const p of REGISTRY) {
    assert.equal(tasks[p.id]?.command, `deno run -A lib/cli/problem.ts ${p.id}`, p.id);
    assert.ok((tasks[p.id]?.description ?? "").length > 0, `${p.id}: its task has a description`);
  }
  assert.deepEqual(REGISTRY.map((p) => p.order), [...REGISTRY.map((p) => p.order)].sort((a, b) => a - b));
});

Deno.test("results are drawn only by the problem that wrote them", () => {
  const p1 = REGISTRY.find((p) => p.id === "p1")!;
  assert.throws(
    () => renderProblemPage(p1, fixtureResults("p3")),
    /results of problem "p3" cannot be drawn as problem "p1"/,
  );
});

Deno.test("a study added as one config file runs, gets the default page, and the index lists it", async () => {
  const kSweep = await withPage(kSweepStudy);
  const out = await Deno.makeTempDir({ prefix: "registry_" });
  const registry = [...REGISTRY, kSweep];
  try {
    await runProblem(kSweep, registry, ["--quick", "--steps", "30", "--out", out, "--jobs", "2"]);
    const results = JSON.parse(await Deno.readTextFile(join(out, "k_sweep", "results.json")));
    checkProblemResults(results);
    assert.equal(results.problem, "k_sweep");
    assert.equal(results.runs.length, 6);
    assert.deepEqual([...new Set(results.runs.map((r: { config: { K: number } }) => r.config.K))], [8, 16, 32]);
    await writeReports(out, registry);
    const index = (parseHTML(await Deno.readTextFile(join(out, "index.html"))) as unknown as {
      document: { querySelectorAll(s: string): ArrayLike<{ textContent: string; getAttribute(n: string): string }> };
    }).document;
    const links = Array.from(index.querySelectorAll("ol.problems a")).map((a) => a.getAttribute("href"));
    assert.ok(links.includes("k_sweep/index.html"), links.join(", "));
    const items = Array.from(index.querySelectorAll("ol.problems li")).map((li) => li.textContent);
    assert.ok(items.some((t) => t.includes(kSweep.title) && t.includes("6 of 6 runs.")), items.join("\n"));
    assert.equal(items.filter((t) => t.includes("Not run yet")).length, REGISTRY.length, "the others are listed too");
    const page = await Deno.readTextFile(join(out, "k_sweep", "index.html"));
    assert.ok(page.includes(kSweep.title) && page.includes("<svg"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
