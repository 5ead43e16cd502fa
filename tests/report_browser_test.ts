/**
 * A generated report opened in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven over the
 * DevTools protocol by the playground's client (playground/browser.ts). The page must load from disk with no
 * console error and every chart must have a non-zero size. Set REPORT_SCREENSHOT=/path.png to also save a
 * full-page screenshot.
 *
 * Chromium is always ended (asked to quit, killed after 5 s) and the temporary folders removed; every wait is
 * bounded, so the test fails (rather than hangs) within about a minute.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeReports } from "../lib/site/write.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";
import { CHROMIUM_INSTALL, chromiumPath, probeChromium } from "../lib/platform/chromium.ts";
import { type BrowserPage, openInChromium } from "../playground/browser.ts";

const CHROMIUM = chromiumPath();

const REQUIRE_BROWSER = Deno.env.get("RECALL_LAB_REQUIRE_BROWSER") === "1";
const browser = await probeChromium(CHROMIUM);
if (!browser.ok && !REQUIRE_BROWSER) {
  console.error(
    `report_browser_test: ignored: ${browser.reason}; install it with: ${CHROMIUM_INSTALL} ` +
      `(RECALL_LAB_REQUIRE_BROWSER=1 makes this a failure)`,
  );
}

Deno.test({
  name: "a problem report opens from disk in headless Chromium with no errors and every chart has a size",
  ignore: !browser.ok && !REQUIRE_BROWSER,
}, async () => {
  assert.ok(browser.ok, `${browser.ok ? "" : browser.reason}: this test needs Chromium (${CHROMIUM_INSTALL})`);
  const reports = await Deno.makeTempDir({ prefix: "report_browser_" });
  let page: BrowserPage | undefined;
  try {
    await Deno.mkdir(join(reports, "p1"));
    await Deno.writeTextFile(join(reports, "p1", "results.json"), JSON.stringify(fixtureResults("p1")));
    await writeReports(reports);

    const url = new URL(`file://${join(reports, "p1", "index.html")}`).href;
    page = await openInChromium(url, { chromium: CHROMIUM, width: 1200, height: 900 });
    const charts = await page.evaluate<{ id: string; width: number; height: number }[]>(
      `[...document.querySelectorAll("figure.chart .plot > svg")].map((svg) => {
        const r = svg.getBoundingClientRect();
        return { id: svg.closest("figure").id, width: r.width, height: r.height };
      })`,
    );

    const shot = Deno.env.get("REPORT_SCREENSHOT");
    if (shot) await Deno.writeFile(shot, await page.screenshot());

    assert.deepEqual(page.errors(), [], "the page logged errors");
    assert.deepEqual(charts.map((c) => c.id), ["p1-accuracy", "p1-convergence"]);
    for (const c of charts) {
      assert.ok(c.width > 100 && c.height > 100, `chart ${c.id} is ${c.width}×${c.height}`);
    }
  } finally {
    await page?.close();
    await Deno.remove(reports, { recursive: true }).catch(() => {});
  }
});
