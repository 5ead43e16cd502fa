/**
 * The Recall Playground (playground/): its settings and their refusals (resolve()'s own messages), the hash, the
 * sample sequences and the charts; then the built page in headless Chromium, opened from file:// with
 * `#model=hybrid&M=1&tau=1&L=16&steps=400&autorun=1`: it must reach 90% accuracy at L within the 400 steps, export
 * a schema-valid run file with the run key of lib/store/run_key.ts, and train exactly what `deno task run` trains
 * with the same flags (same history, same accuracy by length). Without Chromium the browser test is ignored with one
 * line. RECALL_LAB_REQUIRE_BROWSER=1 makes that a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, type ExperimentConfig, resolve } from "../lib/training/config.ts";
import { runKey } from "../lib/store/run_key.ts";
import { checkRunResult, type RunResult } from "../lib/store/results.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { substream } from "../lib/task/random.ts";
import { CHROMIUM_INSTALL, probeChromium } from "../lib/platform/chromium.ts";
import {
  checkSettings,
  cliArgs,
  DEFAULTS,
  experimentOf,
  parseHash,
  screenedLr,
  toHash,
} from "../playground/settings.ts";
import { parseTokens, randomSequence, sequenceRoles } from "../playground/sequence.ts";
import { linearTicks, lineChartSvg, logDomain } from "../playground/charts.ts";
import { scriptText } from "../playground/page.ts";
import { buildPlayground, DEFAULT_OUT, MAX_PAGE_BYTES } from "../playground/build.ts";
import { measureRace, measureSettings } from "../playground/measure.ts";
import { renderIndexPage } from "../lib/site/page.ts";
import {
  type BrowserPage,
  type FirefoxPage,
  firefoxPath,
  openInChromium,
  openInFirefox,
  pageUrl,
} from "../playground/browser.ts";

const TEST_HASH = "#model=hybrid&M=1&tau=1&L=16&steps=400&autorun=1";

/** resolve()'s message for `config`, as the page shows it (the flag's "--" dropped). */
function resolveMessage(config: ExperimentConfig): string {
  try {
    resolve(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.message.replace(/^--/, "");
    throw e;
  }
  throw new Error("resolve accepted it");
}

Deno.test("the test's hash reads as one hybrid model at L = 16, 400 steps, autorun; defaults fill the rest", () => {
  const { settings, unknown } = parseHash(TEST_HASH);
  assert.deepEqual(unknown, []);
  assert.deepEqual(settings.models, ["hybrid"]);
  assert.equal(settings.L, 16);
  assert.equal(settings.steps, 400);
  assert.equal(settings.K, DEFAULTS.K);
  assert.equal(settings.autorun, true);
  assert.deepEqual(parseHash(toHash(settings)).settings, settings);
  const odd = { ...settings, models: ["mamba", "tf-rope"], lr: 0.003, heads: 4, far: "none", sample: "0,3,0" };
  assert.deepEqual(parseHash(toHash(odd)).settings, odd);
  assert.deepEqual(parseHash("#bogus=1&L=8").unknown, ["bogus"]);
});

Deno.test("each model trains at the problems' screened lr where the recipe table has one, else its default", () => {
  const { settings } = parseHash(TEST_HASH);
  assert.equal(screenedLr("hybrid", settings), 1e-2);
  const hybrid = experimentOf(settings, "hybrid");
  assert.equal(hybrid.lrSource, "screened");
  assert.equal(hybrid.config.lr, 1e-2);
  const m4 = experimentOf({ ...settings, M: 4 }, "tf-learned"); // no screened row for tf-learned at M = 4
  assert.equal(m4.lrSource, "model default");
  assert.equal(m4.config.lr, undefined);
  const set = experimentOf({ ...settings, lr: 0.005 }, "hybrid");
  assert.deepEqual([set.lrSource, set.config.lr], ["set", 0.005]);
});

Deno.test("bad settings are refused beside their field with resolve()'s rule, before anything trains", () => {
  const base = parseHash(TEST_HASH).settings;
  const cases = [
    { change: { tau: 15 }, field: "tau", config: { tau: 15 } },
    { change: { M: 20 }, field: "M", config: { M: 20 } },
    { change: { models: ["tf-rope"], heads: 3 }, field: "heads", config: { model: "tf-rope", heads: 3 } },
    { change: { L: "abc" }, field: "L", config: { L: "abc" } },
    { change: { far: "2" }, field: "far", config: { farLengths: [2] } },
  ] as const;
  for (const c of cases) {
    const checked = checkSettings({ ...base, ...c.change });
    const config = { ...experimentOf(base, "hybrid").config, ...c.config } as unknown as ExperimentConfig;
    assert.deepEqual(checked.errors, [{ field: c.field, message: resolveMessage(config) }], JSON.stringify(c));
    assert.deepEqual(checked.entries, []);
  }
  // A rule that holds for some models only names them; Mamba has no heads to check.
  const mixed = checkSettings({ ...base, models: ["mamba", "tf-rope", "hybrid"], heads: 3 });
  assert.equal(mixed.errors.length, 1);
  assert.match(mixed.errors[0].message, /^tf-rope, hybrid: heads must divide d=8, got 3$/);
  assert.equal(checkSettings({ ...base, models: ["mamba"], heads: 3 }).errors.length, 0);
  assert.deepEqual(checkSettings({ ...base, models: [] }).errors.map((e) => e.field), ["model"]);
  assert.deepEqual(checkSettings({ ...base, probe: 10 }).errors.map((e) => e.field), ["probe"]);
  assert.match(checkSettings({ ...base, models: ["gpt"] }).errors[0].message, /^model must be one of /);
});

Deno.test("a measuring command refuses a hash key that is not a setting instead of racing the defaults", () => {
  assert.deepEqual(measureSettings("model=mamba,hybrid&L=16", "--measure-race").models, ["mamba", "hybrid"]);
  assert.throws(
    () => measureSettings("models=mamba,hybrid&L=16", "--measure-race"),
    /--measure-race: not settings: models \(the settings: model, K, d, M, L, tau,/,
  );
});

Deno.test("a race's settings give deno task run's flags and so its key", async () => {
  const entry = checkSettings(parseHash(TEST_HASH).settings).entries[0];
  const args = cliArgs(entry.config);
  assert.deepEqual(args.slice(0, 4), ["--model", "hybrid", "--K", "16"]);
  assert.ok(args.includes("--lr") && args[args.indexOf("--lr") + 1] === "0.01");
  // The flags read back (as run.ts reads them) resolve to the same settings, so to the same key.
  const flag = (name: string) => args[args.indexOf(`--${name}`) + 1];
  const back = {
    model: flag("model"),
    ...Object.fromEntries(["K", "d", "M", "L", "tau", "seed", "steps", "batch", "lr", "heads"].map((k) => [
      k,
      Number(flag(k)),
    ])),
    farLengths: flag("far-lengths").split(",").map(Number),
  } as unknown as ExperimentConfig;
  assert.equal(await runKey(back), await runKey(entry.config));
});

Deno.test("sample sequences: roles, typed tokens, and seeded draws from their own stream", () => {
  assert.deepEqual(sequenceRoles([3, 0, 7, 2, 0], 1), { query: 0, firstQuery: 1, value: 7 });
  assert.deepEqual(sequenceRoles([3, 0, 7, 2, 0], 3), { query: 0, firstQuery: null, value: null });
  assert.deepEqual(parseTokens("3 0, 7 2 0", { K: 16, tau: 1 }, 48), { tokens: [3, 0, 7, 2, 0] });
  assert.deepEqual(parseTokens("3 16 0", { K: 16, tau: 1 }, 48), { error: 'tokens are ids 0..K-1=15, got "16"' });
  assert.deepEqual(parseTokens("3 0", { K: 16, tau: 1 }, 48), { error: "a sequence has tau+2=3 .. 48 tokens, got 2" });
  const task = { K: 16, M: 1, tau: 1 };
  const drawn = randomSequence(0, 2, task, 16);
  assert.deepEqual(drawn, Array.from(arBatch(substream(0, "playground:sample=2"), task, 1, 16).tokens));
  assert.deepEqual(randomSequence(0, 2, task, 16), drawn);
  assert.notDeepEqual(randomSequence(0, 3, task, 16), drawn);
  const roles = sequenceRoles(drawn, 1);
  assert.equal(roles.query, 0);
  assert.notEqual(roles.firstQuery, null);
});

Deno.test("charts: one path per series with points, ticks and log decades; script text cannot end its element", () => {
  const svg = lineChartSvg({
    title: "loss <x>",
    width: 300,
    height: 200,
    xMax: 400,
    y: "log",
    series: [
      { label: "a", color: "#123456", points: [[50, 2.7], [100, 0.02]] },
      { label: "b", color: "#654321", points: [], dashed: true },
    ],
  });
  assert.equal(svg.match(/<path /g)?.length, 1);
  assert.ok(svg.includes("loss &lt;x&gt;"));
  assert.deepEqual(logDomain([2.7, 0.02]), [0.01, 10]);
  assert.deepEqual(linearTicks(400), [0, 100, 200, 300, 400]);
  assert.equal(scriptText('x = "</script><!--"'), 'x = "<\\/script><\\!--"');
});

Deno.test("the reports' index links the page where the build puts it, relative to reports/", () => {
  const index = renderIndexPage([], { results: new Map() });
  const href = /<a href="([^"]+)"><strong>Recall Playground/.exec(index)?.[1];
  assert.equal(href, "playground/index.html");
  assert.equal(join("reports", href), join(DEFAULT_OUT, "index.html"));
});

const REQUIRE_BROWSER = Deno.env.get("RECALL_LAB_REQUIRE_BROWSER") === "1";
const browser = await probeChromium();
if (!browser.ok && !REQUIRE_BROWSER) {
  console.error(`playground_test: browser test ignored: ${browser.reason}; install it with: ${CHROMIUM_INSTALL}`);
}

/** deno task run with `args`; its run file. */
async function cliRun(args: string[]): Promise<RunResult> {
  const dir = await Deno.makeTempDir({ prefix: "playground_cli_" });
  try {
    const out = join(dir, "run.json");
    const done = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "lib/cli/run.ts", ...args, "--out", out],
      cwd: new URL("../", import.meta.url),
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(done.success, new TextDecoder().decode(done.stderr));
    return JSON.parse(await Deno.readTextFile(out));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const status = (page: BrowserPage) =>
  page.evaluate<Record<string, string>>(`({...document.getElementById("status").dataset})`);

Deno.test({
  name: "the built page trains the hybrid to 90% at L within 400 steps in headless Chromium from file://, as the CLI",
  ignore: !browser.ok && !REQUIRE_BROWSER,
}, async () => {
  assert.ok(browser.ok, `${browser.ok ? "" : browser.reason}: this test needs Chromium (${CHROMIUM_INSTALL})`);
  const dir = await Deno.makeTempDir({ prefix: "playground_page_" });
  let page: BrowserPage | undefined;
  try {
    const built = await buildPlayground(dir);
    assert.ok(built.bytes < MAX_PAGE_BYTES, `the page is ${built.bytes} bytes`);
    const html = await Deno.readTextFile(built.path);
    assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/, "no external script or style");
    const entry = checkSettings(parseHash(TEST_HASH).settings).entries[0];
    const cli = cliRun(cliArgs(entry.config)); // meanwhile: the same run with deno task run

    page = await openInChromium(pageUrl(built.path, TEST_HASH));
    const seen: number[] = [];
    const end = performance.now() + 45_000;
    let s = await status(page);
    while (s.state !== "done") {
      assert.ok(!["error", "invalid"].includes(s.state), `the page says ${s.state}: ${JSON.stringify(s)}`);
      assert.ok(performance.now() < end, `not done after 45 s: ${JSON.stringify(s)}`);
      if (s.accuracyAtL) seen.push(Number(s.accuracyAtL));
      await new Promise((r) => setTimeout(r, 250));
      s = await status(page);
    }
    assert.ok(Number(s.step) <= 400 && Number(s.step) > 0, `step ${s.step}`);
    assert.ok(Number(s.accuracyAtL) >= 0.9, `accuracy at L ${s.accuracyAtL} after ${s.step} steps`);
    assert.ok(seen.length > 0, "the status showed live accuracy while training");

    const [result] = await page.evaluate<RunResult[]>("recallPlayground.runFiles()");
    checkRunResult(result);
    assert.equal(result.key, await runKey(entry.config));
    assert.ok(result.history.some((p) => p.step <= 400 && p.accuracy >= 0.9));
    const probes = await page.evaluate<{ layers: { kind: string; weights?: Record<string, number> }[] }[]>(
      "recallPlayground.probes()",
    );
    assert.deepEqual(probes[0].layers.map((l) => l.kind), ["mamba", "attention"]);
    const images = await page.evaluate<number>(`document.querySelectorAll("#inside figure.map canvas").length`);
    assert.equal(images, 4, "Mamba's delta and retention, two attention heads");
    assert.deepEqual(page.errors(), [], "the page logged errors");
    const remote = page.requests().filter((u) => !/^(file|blob|data):/.test(u));
    assert.deepEqual(remote, [], "the page asked the network");

    // The scripts' run: the same batches and steps give the same history and the same accuracy at every length.
    const fromCli = await cli;
    assert.equal(fromCli.key, result.key);
    assert.deepEqual(result.history, fromCli.history);
    assert.deepEqual(result.accuracyByLength, fromCli.accuracyByLength);

    // A loaded run file overlays its curves; this one is the CLI's run of the same key.
    const cliFile = join(dir, `${fromCli.key}.json`);
    await Deno.writeTextFile(cliFile, JSON.stringify(fromCli));
    await page.setFiles("#overlay", [cliFile]);
    await page.waitFor(`document.getElementById("legend").textContent.includes("dashed")`, 5000, "the overlay");
    assert.match(await page.evaluate<string>(`document.getElementById("legend").textContent`), /same run/);
    assert.equal(await page.evaluate<number>(`document.querySelectorAll("#charts path[stroke-dasharray]").length`), 2);

    // A typed sequence goes to the model, which answers it.
    const typed = randomSequence(7, 0, { K: 16, M: 1, tau: 1 }, 16);
    await page.evaluate(
      `(() => { const el = document.getElementById("sample"); el.value = ${
        JSON.stringify(typed.join(" "))
      }; el.dispatchEvent(new Event("change")); })()`,
    );
    await page.waitFor(
      `recallPlayground.probes()[0].tokens.join(" ") === ${JSON.stringify(typed.join(" "))}`,
      5000,
      "the probe",
    );
    assert.match(await page.evaluate<string>("location.hash"), new RegExp(`sample=${typed.join(",")}`));

    // Step runs to the next held-out check and pauses; Play runs on to the end.
    await page.navigate(pageUrl(built.path, "#model=mamba&L=16&steps=150&far=none").replace("#", "?steps#"));
    for (const step of ["50", "100"]) {
      await page.evaluate(`document.getElementById("step").click()`);
      await page.waitFor(
        `(d => d.state === "paused" && d.step === "${step}")(document.getElementById("status").dataset)`,
        20_000,
        `a pause at step ${step}`,
      );
    }
    await page.evaluate(`document.getElementById("play").click()`);
    await page.waitFor(`document.getElementById("status").dataset.state === "done"`, 20_000, "the end");
    assert.equal((await status(page)).step, "150");

    // A race of more models than free cores takes turns: never more workers train than the page leaves room for.
    await page.navigate(
      pageUrl(built.path, "#model=mamba,tf-rope,hybrid&L=16&steps=200&far=none&autorun=1").replace("#", "?race#"),
    );
    let most = 0, waited = false, r = await status(page);
    const raceEnd = performance.now() + 60_000;
    while (r.state !== "done") {
      assert.ok(!["error", "invalid"].includes(r.state), `the race says ${r.state}: ${JSON.stringify(r)}`);
      assert.ok(performance.now() < raceEnd, `the race is not done after 60 s: ${JSON.stringify(r)}`);
      most = Math.max(most, Number(r.running ?? 0));
      waited ||= await page.evaluate<boolean>(`document.body.textContent.includes("waiting its turn")`);
      await new Promise((res) => setTimeout(res, 30));
      r = await status(page);
    }
    assert.ok(most >= 1 && most <= Number(r.slots), `${most} workers trained at once, ${r.slots} allowed`);
    if (Number(r.slots) < 3) assert.ok(waited, "a model waited its turn");
    const raced = await page.evaluate<RunResult[]>("recallPlayground.runFiles()");
    assert.deepEqual(raced.map((x) => x.stepsRun), [200, 200, 200]);

    // Refusals: beside the field, resolve()'s words, and Play starts nothing.
    await page.navigate(pageUrl(built.path, "#model=tf-rope,hybrid&L=16&tau=15").replace("#", "?refused#"));
    const tauError = await page.evaluate<string>(`document.querySelector('[data-error-for="tau"]').textContent`);
    const base = experimentOf(parseHash("#L=16").settings, "tf-rope").config;
    assert.equal(tauError, resolveMessage({ ...base, tau: 15 }));
    await page.evaluate(`document.getElementById("play").click()`);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await status(page)).state, "invalid");
    assert.deepEqual(await page.evaluate("recallPlayground.runFiles()"), []);
    await page.evaluate(`location.hash = "#model=tf-rope,hybrid&M=20"`);
    await page.waitFor(`document.querySelector('[data-error-for="M"]').textContent !== ""`, 5000, "the M refusal");
    assert.match(
      await page.evaluate<string>(`document.querySelector('[data-error-for="M"]').textContent`),
      /^M must be an integer in \[1, K=16\], got 20$/,
    );
  } finally {
    await page?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

const FIREFOX = await firefoxPath();
if (FIREFOX === null) {
  console.error(
    "playground_test: Firefox test ignored: no firefox-esr or firefox ($FIREFOX); apt-get install -y firefox-esr",
  );
}

Deno.test({
  name: "a race of three models finishes every lane in Chromium (the measuring command's race)",
  ignore: !browser.ok && !REQUIRE_BROWSER,
}, async () => {
  assert.ok(browser.ok, `${browser.ok ? "" : browser.reason}: this test needs Chromium (${CHROMIUM_INSTALL})`);
  const dir = await Deno.makeTempDir({ prefix: "playground_race_" });
  try {
    const built = await buildPlayground(dir);
    const line = await measureRace(built.path, "model=mamba,hybrid,tf-rope&L=16&steps=100");
    assert.match(line, /^race of mamba, hybrid, tf-rope \(100 steps at L = 16\): [\d.]+ s, \d+ worker\(s\) at once;/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the built page trains the same run in headless Firefox from file://",
  ignore: FIREFOX === null,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "playground_firefox_page_" });
  let page: FirefoxPage | undefined;
  try {
    const built = await buildPlayground(dir);
    page = await openInFirefox(pageUrl(built.path, TEST_HASH), FIREFOX!);
    await page.waitFor(
      `["done", "error", "invalid"].includes(document.getElementById("status").dataset.state)`,
      45_000,
      "the end",
    );
    const s = await page.evaluate<Record<string, string>>(`({...document.getElementById("status").dataset})`);
    assert.equal(s.state, "done", JSON.stringify(s));
    assert.ok(Number(s.accuracyAtL) >= 0.9, `accuracy at L ${s.accuracyAtL}`);
    const [result] = await page.evaluate<RunResult[]>("recallPlayground.runFiles()");
    checkRunResult(result);
    const entry = checkSettings(parseHash(TEST_HASH).settings).entries[0];
    assert.equal(result.key, await runKey(entry.config));
    assert.match(result.versions.v8, /Firefox/);
    assert.deepEqual(page.errors(), []);
  } finally {
    await page?.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
