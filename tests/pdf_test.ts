/**
 * The homework PDFs printed for real: one --quick run set of p1, p2 and p3 (about 20 s), then `deno task pdf`
 * through Debian's Chromium, read back with poppler-utils (pdfinfo, pdftotext). Page counts fall in a stated
 * range, every problem's title, part titles and findings headings are in its homework's text, pages are
 * numbered "page n of N", and each chart's legend, plot and caption lie on one page.
 *
 * Without Chromium or poppler-utils the test is ignored with one line saying what to install;
 * RECALL_LAB_REQUIRE_BROWSER=1 (set by .ci/run) makes their absence a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseHTML } from "linkedom";
import { CHROMIUM_INSTALL, probeChromium } from "../lib/platform/chromium.ts";
import type { ProblemResults } from "../lib/store/results.ts";
import { REGISTRY } from "./fixtures/registry.ts";
import { problemCommand, ROOT } from "./fixtures/spawn.ts";

const POPPLER_INSTALL = "apt-get update && apt-get install -y poppler-utils";

/** Pages the --quick PDFs may have (measured 2026-12-01: hw3 13, hw4 21; quick legends are long, probes none). */
const PAGE_RANGE: Record<string, [number, number]> = { hw3: [8, 20], hw4: [12, 30] };

async function popplerReason(): Promise<string | null> {
  for (const tool of ["pdfinfo", "pdftotext"]) {
    try {
      const out = await new Deno.Command(tool, { args: ["-v"], stdout: "null", stderr: "null" }).output();
      if (!out.success) return `${tool} -v exited with code ${out.code}`;
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

const REQUIRE = Deno.env.get("RECALL_LAB_REQUIRE_BROWSER") === "1";
const browser = await probeChromium();
const poppler = await popplerReason();
const missing = !browser.ok
  ? `${browser.reason}; install it with: ${CHROMIUM_INSTALL}`
  : poppler !== null
  ? `${poppler}; install it with: ${POPPLER_INSTALL}`
  : null;
if (missing !== null && !REQUIRE) {
  console.error(`pdf_test: ignored: ${missing} (RECALL_LAB_REQUIRE_BROWSER=1 makes this a failure)`);
}

async function tool(name: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(out.success, `${name} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/** Text without any whitespace (line breaks fall anywhere in a PDF's text), with the page of each character. */
function squeeze(pages: readonly string[]): { text: string; page: number[] } {
  let text = "";
  const page: number[] = [];
  pages.forEach((p, i) => {
    const s = p.replace(/\s+/g, "");
    text += s;
    for (let k = 0; k < s.length; k++) page.push(i + 1);
  });
  return { text, page };
}

const bare = (s: string) => s.replace(/\s+/g, "");

interface FigureNode {
  readonly id: string;
  querySelector(s: string): { textContent: string } | null;
  querySelectorAll(s: string): ArrayLike<{ textContent: string }>;
}

/** A figure's legend: the list of names, or for a heat map the colour bar's end labels (its SVG text). */
function legendText(f: FigureNode): string {
  const list = f.querySelector(".legend");
  if (list !== null) return list.textContent;
  return Array.from(f.querySelectorAll(".colorbar text")).map((t) => t.textContent).join(" ");
}

interface Figure {
  readonly id: string;
  readonly legend: string;
  readonly caption: string;
}

/** The figures of a problem page as written by the report build, in page order. */
function figuresOf(html: string): Figure[] {
  const doc = (parseHTML(html) as unknown as {
    document: {
      querySelectorAll(s: string): ArrayLike<FigureNode>;
    };
  }).document;
  return Array.from(doc.querySelectorAll("figure.chart")).map((f) => ({
    id: f.id,
    legend: legendText(f),
    caption: f.querySelector("figcaption")?.textContent ?? "",
  }));
}

Deno.test({
  name: "deno task pdf prints hw3 and hw4 from --quick runs: page counts, titles, findings headings, charts whole",
  ignore: missing !== null && !REQUIRE,
}, async () => {
  assert.equal(missing, null, `this test needs Chromium and poppler-utils: ${missing}`);
  const out = await Deno.makeTempDir({ prefix: "pdf_test_" });
  try {
    for (const id of ["p1", "p2", "p3"]) {
      const r = await problemCommand(id, ["--quick", "--steps", "30", "--out", out], "null").output();
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    }
    const pdf = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", join(ROOT, "lib", "cli", "pdf.ts"), "--out", out],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(pdf.stderr);
    assert.equal(pdf.code, 0, stderr);

    const problems = new Map(REGISTRY.map((p) => [p.id, p]));
    const results = new Map<string, ProblemResults>();
    for (const id of ["p1", "p2", "p3"]) {
      results.set(id, JSON.parse(await Deno.readTextFile(join(out, id, "results.json"))));
    }
    const context = { results };
    for (const [hw, ids] of [["hw3", ["p1"]], ["hw4", ["p2", "p3"]]] as const) {
      const file = join(out, `${hw}.pdf`);
      const info = await tool("pdfinfo", [file]);
      const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
      const [lo, hi] = PAGE_RANGE[hw];
      assert.ok(pages >= lo && pages <= hi, `${hw}: ${pages} pages, expected ${lo}–${hi}`);
      assert.match(stderr, new RegExp(`${hw}\\.pdf: Homework \\d: .*, ${pages} pages`));

      const raw = (await tool("pdftotext", ["-raw", "-enc", "UTF-8", file, "-"])).split("\f").slice(0, pages);
      assert.equal(raw.length, pages);
      const all = squeeze(raw);
      raw.forEach((p, i) => assert.ok(bare(p).includes(bare(`page ${i + 1} of ${pages}`)), `${hw}: page ${i + 1}`));
      for (const word of ["Command", "Date", "Machine", "Versions", "Seeds", "deno task pdf"]) {
        assert.ok(bare(raw[0]).includes(bare(word)), `${hw}: title block lacks ${word}`);
      }

      // printed at the sizes the print styles give, not shrunk to fit something too wide for the paper: the
      // title block's 9.5pt text against the 9px (6.75pt) footer, which Chromium never scales
      const box = await tool("pdftotext", ["-f", "1", "-l", "1", "-bbox", file, "-"]);
      const height = (word: string) => {
        const m = new RegExp(`yMin="([\\d.]+)" xMax="[\\d.]+" yMax="([\\d.]+)">${word}<`).exec(box);
        assert.ok(m !== null, `${hw}: no "${word}" on page 1`);
        return Number(m[2]) - Number(m[1]);
      };
      const scale = height("This") / height("page") / (9.5 / 6.75);
      assert.ok(Math.abs(scale - 1) < 0.02, `${hw}: text printed at ${Math.round(scale * 100)}% of its size`);

      // every problem's title, every part's title and every findings heading its view computes
      for (const id of ids) {
        const view = problems.get(id)!.view(results.get(id)!, context);
        const expected = [
          problems.get(id)!.title,
          ...view.parts.map((p) => p.title),
          ...view.parts.flatMap((p) => p.findings.flatMap((g) => (g.heading === null ? [] : [g.heading]))),
        ];
        for (const text of expected) assert.ok(all.text.includes(bare(text)), `${hw}: no "${text}"`);
        // the run table is printed open, with a row per run
        const runs = results.get(id)!.runs;
        assert.ok(all.text.includes(bare(`All ${runs.length} finished runs`)), `${hw}: ${id}'s run table`);
        const table = all.text.indexOf(bare(`All ${runs.length} finished runs`));
        assert.ok(all.text.indexOf(bare("acc at L [95% CI]"), table) > table, `${hw}: ${id}'s run table is empty`);
      }
      assert.ok(!all.text.includes(bare("← all problems")), `${hw}: the navigation link is printed`);
      const appendix = all.text.indexOf(bare("Appendix: the code that produced these results"));
      assert.ok(appendix > 0, `${hw}: no appendix`);
      for (
        const f of [...ids.map((id) => `studies/${id}/study.ts`), "lib/models/model.ts", "lib/models/mamba_mixer.ts"]
      ) {
        assert.ok(all.text.indexOf(f, appendix) > 0, `${hw}: appendix lacks ${f}`);
      }

      // each chart: its legend, the plot and its caption ("Figure n." in print) on one page
      const figures = [];
      for (const id of ids) figures.push(...figuresOf(await Deno.readTextFile(join(out, id, "index.html"))));
      assert.ok(figures.length >= 2 * ids.length, `${hw}: ${figures.length} figures`);
      let previous = 0; // where the previous figure's caption ends: this figure's legend comes after it
      figures.forEach((f, i) => {
        const label = `Figure${i + 1}.`;
        const at = all.text.indexOf(label + bare(f.caption).slice(0, 40), previous);
        assert.ok(at >= 0, `${hw}: ${f.id}: caption "${label}" not found`);
        const end = at + label.length + bare(f.caption).length - 1;
        assert.ok(f.legend.trim() !== "", `${hw}: ${f.id} has no legend`);
        const legend = all.text.indexOf(bare(f.legend), previous);
        assert.ok(legend >= 0 && legend < at, `${hw}: ${f.id}: legend not found before its caption`);
        const onPages = new Set([all.page[legend], all.page[at], all.page[end]]);
        assert.equal(onPages.size, 1, `${hw}: ${f.id} spans pages ${[...onPages].join(", ")}`);
        previous = end;
      });
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
