/**
 * The page in headless Chromium, for the docs: a screenshot of a finished race, and one model's training speed in
 * the page against `deno task run` with the same settings (the same run key), one after the other so they do not
 * share the cores.
 */
import { join } from "node:path";
import { firefoxPath, openInChromium, openInFirefox, pageUrl } from "./browser.ts";
import { checkSettings, cliArgs, FIELDS, parseHash, type PlaygroundSettings, toHash } from "./settings.ts";
import { UsageError } from "../lib/cli/flags.ts";
import { checkRunResult, type RunResult } from "../lib/store/results.ts";

/** How long a race may take in the page before the command gives up. */
const RACE_TIMEOUT_MS = 30 * 60_000;

const DONE = `document.getElementById("status").dataset.state === "done"`;

/** Open `url` (a hash with autorun), wait for the race to finish, return a PNG of the whole page. */
export async function screenshot(url: string): Promise<Uint8Array> {
  const page = await openInChromium(url, { width: 1200, height: 900 });
  try {
    await page.waitFor(DONE, RACE_TIMEOUT_MS, "the race to finish");
    await new Promise((r) => setTimeout(r, 500)); // the last frame drawn
    return await page.screenshot();
  } finally {
    await page.close();
  }
}

/** The settings checked as the page checks them; a UsageError naming `flag` and every refusal. */

/**
 * The settings of a measuring command's hash; a key that is not a setting is a UsageError naming it (the page would
 * run its defaults in its place, as the ignored "models=" once did).
 */
export function measureSettings(hash: string, flag: string): PlaygroundSettings {
  const { settings, unknown } = parseHash(hash);
  if (unknown.length > 0) {
    throw new UsageError(`${flag}: not settings: ${unknown.join(", ")} (the settings: ${FIELDS.join(", ")})`);
  }
  return settings;
}

function checkedOrRefused(settings: PlaygroundSettings, flag: string): ReturnType<typeof checkSettings> {
  const checked = checkSettings(settings);
  if (checked.errors.length > 0) {
    throw new UsageError(`${flag}: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join("; ")}`);
  }
  return checked;
}

/**
 * Train the first model of `hash` in the page (in headless Chromium or Firefox) and with `deno task run`; one line
 * each, and whether they agree.
 */
export async function measure(pagePath: string, hash: string, browser: "chromium" | "firefox"): Promise<string> {
  const settings = measureSettings(hash, "--measure");
  const one = { ...settings, models: settings.models.slice(0, 1), autorun: true };
  const checked = checkedOrRefused(one, "--measure");
  const url = pageUrl(pagePath, toHash(one));
  let page;
  if (browser === "firefox") {
    const path = await firefoxPath();
    if (path === null) {
      throw new UsageError("--browser firefox: no firefox-esr or firefox (apt-get install -y firefox-esr)");
    }
    page = await openInFirefox(url, path);
  } else page = await openInChromium(url);
  let inPage: RunResult;
  try {
    await page.waitFor(DONE, RACE_TIMEOUT_MS, "the page's run to finish");
    inPage = (await page.evaluate<RunResult[]>("recallPlayground.runFiles()"))[0];
  } finally {
    await page.close();
  }
  checkRunResult(inPage);
  const dir = await Deno.makeTempDir({ prefix: "playground_measure_" });
  let cli: RunResult;
  try {
    const out = join(dir, "run.json");
    const args = ["run", "-A", "lib/cli/run.ts", ...cliArgs(checked.entries[0].config), "--out", out];
    const done = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: new URL("../", import.meta.url),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!done.success) throw new Error(`deno task run failed: ${new TextDecoder().decode(done.stderr).trim()}`);
    cli = JSON.parse(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const line = (what: string, r: RunResult) =>
    `${what}: ${(r.stepsRun / r.timing.trainSeconds).toFixed(1)} steps/s over ${r.stepsRun} steps ` +
    `(${r.timing.trainSeconds.toFixed(1)} s with its held-out checks; median step ${
      r.timing.medianStepMs.toFixed(2)
    } ms)`;
  const diff = inPage.history.length === cli.history.length
    ? Math.max(0, ...inPage.history.map((p, i) => Math.abs(p.loss - cli.history[i].loss)))
    : NaN;
  return [
    `${checked.entries[0].model}, key ${inPage.key} (deno task run: ${cli.key}); ${inPage.versions.v8}`,
    line(`page (headless ${browser === "firefox" ? "Firefox" : "Chromium"})`, inPage),
    line("deno task run          ", cli),
    `largest loss difference over the ${cli.history.length} checks: ${diff}`,
  ].join("\n");
}

/**
 * How the page's own thread fares while a race trains: open `hash` (its autorun dropped) in headless Chromium,
 * watch for long tasks (over 50 ms) with a PerformanceObserver, press Play and wait for the end. One line: the race's
 * wall time, the workers allowed at once, and the long tasks (count, median, longest, and when: seconds after Play).
 */
export async function measureRace(pagePath: string, hash: string): Promise<string> {
  const settings = measureSettings(hash, "--measure-race");
  const checked = checkedOrRefused({ ...settings, autorun: false }, "--measure-race");
  const page = await openInChromium(pageUrl(pagePath, toHash({ ...settings, autorun: false })));
  try {
    await page.waitFor(`document.getElementById("status").dataset.state === "idle"`, 30_000, "the page to load");
    await page.evaluate(
      `(() => { globalThis.longTasks = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) ` +
        `globalThis.longTasks.push({ duration: e.duration, at: e.startTime - (globalThis.raceStart ?? 0) }); ` +
        `}).observe({ type: "longtask" }); ` +
        `globalThis.raceStart = performance.now(); document.getElementById("play").click(); })()`,
    );
    await page.waitFor(DONE, RACE_TIMEOUT_MS, "the race to finish");
    const r = await page.evaluate<{ seconds: number; tasks: { duration: number; at: number }[]; slots: string }>(
      `({ seconds: (performance.now() - globalThis.raceStart) / 1000, tasks: globalThis.longTasks, ` +
        `slots: document.getElementById("status").dataset.slots })`,
    );
    const sorted = r.tasks.map((t) => t.duration).sort((a, b) => a - b);
    const when = r.tasks.map((t) => (t.at / 1000).toFixed(1)).join(", ");
    const median = sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
    return `race of ${
      checked.entries.map((e) => e.model).join(", ")
    } (${settings.steps} steps at L = ${settings.L}): ` +
      `${r.seconds.toFixed(1)} s, ${r.slots} worker(s) at once; ${sorted.length} long tasks of the page ` +
      `(median ${median.toFixed(0)} ms, longest ${(sorted.at(-1) ?? 0).toFixed(0)} ms${
        when === "" ? "" : `; at ${when} s into the race`
      })`;
  } finally {
    await page.close();
  }
}
