/**
 * A generated report opened in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven over the
 * DevTools protocol with Deno's built-in WebSocket. The page must load from disk with no console error and
 * every chart must have a non-zero size. Set REPORT_SCREENSHOT=/path.png to also save a full-page screenshot.
 *
 * Chromium is always killed and the temporary folders removed; every wait is bounded, so the test fails
 * (rather than hangs) within about a minute.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeReports } from "../lib/site/write.ts";
import { fixtureResults } from "./fixtures/results_fixture.ts";
import { CHROMIUM_INSTALL, chromiumPath, HEADLESS_FLAGS, probeChromium } from "../lib/platform/chromium.ts";

const CHROMIUM = chromiumPath();
const STEP_TIMEOUT_MS = 20_000;

/** Resolve with `promise`, or reject after `ms` naming what was awaited. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly sessionId?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { message: string };
}

/** A minimal DevTools protocol client over one browser WebSocket (flattened sessions). */
class Cdp {
  readonly events: CdpMessage[] = [];
  private readonly ws: WebSocket;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  private readonly waiters: { method: string; resolve: () => void }[] = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (e) => this.receive(JSON.parse(e.data as string) as CdpMessage);
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error("DevTools connection closed"));
      this.pending.clear();
    };
  }

  static async connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      }),
      STEP_TIMEOUT_MS,
      "the DevTools WebSocket to open",
    );
    return new Cdp(ws);
  }

  private receive(m: CdpMessage): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m);
      return;
    }
    this.events.push(m);
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].method === m.method) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = new Promise<CdpMessage>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withTimeout(reply, STEP_TIMEOUT_MS, method).then((m) => m.result ?? {});
  }

  /** Resolves at the next event named `method`. */
  next(method: string): Promise<void> {
    return withTimeout(new Promise<void>((resolve) => this.waiters.push({ method, resolve })), STEP_TIMEOUT_MS, method);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.addEventListener("close", () => resolve()));
    this.ws.close();
    await withTimeout(closed, 5000, "the DevTools WebSocket to close").catch(() => {});
  }
}

/** Read Chromium's stderr until it prints the DevTools URL; keep draining it afterwards. */
function watchDevToolsUrl(stderr: ReadableStream<Uint8Array>): { url: Promise<string>; done: Promise<string> } {
  let found: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (found = resolve));
  const done = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
      if (m) found(m[1]);
    }
    return text;
  })();
  return { url, done };
}

function describeEvent(e: CdpMessage): string {
  const p = e.params ?? {};
  if (e.method === "Runtime.exceptionThrown") return `exception: ${JSON.stringify(p.exceptionDetails)}`;
  if (e.method === "Log.entryAdded") return `log: ${JSON.stringify(p.entry)}`;
  return `console.${p.type}: ${JSON.stringify(p.args)}`;
}

function isError(e: CdpMessage): boolean {
  const p = e.params ?? {};
  if (e.method === "Runtime.exceptionThrown") return true;
  if (e.method === "Runtime.consoleAPICalled") return p.type === "error" || p.type === "assert";
  if (e.method === "Log.entryAdded") return (p.entry as { level?: string }).level === "error";
  return false;
}

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
  const profile = await Deno.makeTempDir({ prefix: "chromium_profile_" });
  let child: Deno.ChildProcess | undefined;
  let cdp: Cdp | undefined;
  let stderrDone: Promise<string> | undefined;
  try {
    await Deno.mkdir(join(reports, "p1"));
    await Deno.writeTextFile(join(reports, "p1", "results.json"), JSON.stringify(fixtureResults("p1")));
    await writeReports(reports);

    child = new Deno.Command(CHROMIUM, {
      args: [
        ...HEADLESS_FLAGS,
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const watcher = watchDevToolsUrl(child.stderr);
    stderrDone = watcher.done;
    const wsUrl = await withTimeout(watcher.url, STEP_TIMEOUT_MS, "Chromium to print its DevTools URL");
    cdp = await Cdp.connect(wsUrl);

    const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true }) as { sessionId: string };
    for (const domain of ["Runtime.enable", "Log.enable", "Page.enable"]) await cdp.send(domain, {}, sessionId);
    await cdp.send(
      "Emulation.setDeviceMetricsOverride",
      { width: 1200, height: 900, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const loaded = cdp.next("Page.loadEventFired");
    const url = new URL(`file://${join(reports, "p1", "index.html")}`).href;
    const nav = await cdp.send("Page.navigate", { url }, sessionId);
    assert.equal(nav.errorText, undefined, `navigation failed: ${String(nav.errorText)}`);
    await loaded;

    const measured = await cdp.send("Runtime.evaluate", {
      expression: `JSON.stringify([...document.querySelectorAll("figure.chart .plot > svg")].map((svg) => {
        const r = svg.getBoundingClientRect();
        return { id: svg.closest("figure").id, width: r.width, height: r.height };
      }))`,
      returnByValue: true,
    }, sessionId);
    const charts = JSON.parse((measured.result as { value: string }).value) as {
      id: string;
      width: number;
      height: number;
    }[];

    const shot = Deno.env.get("REPORT_SCREENSHOT");
    if (shot) {
      const metrics = await cdp.send("Page.getLayoutMetrics", {}, sessionId);
      const size = metrics.cssContentSize as { width: number; height: number };
      const png = await cdp.send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
      }, sessionId);
      await Deno.writeFile(shot, Uint8Array.from(atob(png.data as string), (c) => c.charCodeAt(0)));
    }

    const errors = cdp.events.filter(isError).map(describeEvent);
    assert.deepEqual(errors, [], "the page logged errors");
    assert.deepEqual(charts.map((c) => c.id), ["p1-accuracy", "p1-convergence"]);
    for (const c of charts) {
      assert.ok(c.width > 100 && c.height > 100, `chart ${c.id} is ${c.width}×${c.height}`);
    }
  } finally {
    // Ask Chromium to quit (it then ends its helper processes too); kill it if it does not within 5 s.
    await cdp?.send("Browser.close").catch(() => {});
    await cdp?.close();
    if (child) {
      const exited = await withTimeout(child.status, 5000, "Chromium to quit").then(() => true, () => false);
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited meanwhile
        }
        await withTimeout(child.status, 10_000, "Chromium to exit after SIGKILL").catch(() => {});
      }
      await withTimeout(stderrDone ?? Promise.resolve(""), 10_000, "Chromium's stderr to close").catch(() => {});
    }
    await Deno.remove(reports, { recursive: true }).catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
});
