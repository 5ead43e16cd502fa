/**
 * Driving the built page in headless Chromium (lib/platform/chromium.ts finds it) over the DevTools protocol with
 * Deno's WebSocket: open a URL, evaluate expressions, wait for a condition, take a screenshot, collect console
 * errors. Used by tests/playground_test.ts and by `deno task playground --screenshot / --measure`. Headless Firefox
 * (`openInFirefox`, over WebDriver BiDi) evaluates and waits only: the test's check that the page trains there too.
 *
 * The browser is always ended by `close()` (asked to quit, killed after 5 s); every wait is bounded.
 */
import { join } from "node:path";
import { chromiumPath, HEADLESS_FLAGS } from "../lib/platform/chromium.ts";

const STEP_TIMEOUT_MS = 20_000;

/** The file:// URL of the page at `path` with `hash` (the settings). */
export function pageUrl(path: string, hash: string): string {
  const abs = path.startsWith("/") ? path : join(Deno.cwd(), path);
  return new URL(`file://${abs}`).href + (hash.startsWith("#") ? hash : `#${hash}`);
}

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

/** A browser started with `--remote-debugging-port=0`: its process, the WebSocket URL it prints, its drained stderr. */
interface LaunchedBrowser {
  readonly child: Deno.ChildProcess;
  /** The first match of the pattern's group 1 on stderr (never settles if the browser does not print it). */
  readonly url: Promise<string>;
  /** Settles when stderr closes; stderr is read to its end so the browser never blocks writing it. */
  readonly stderrDone: Promise<void>;
}

/** Spawn `command` with `args` and read its stderr until `pattern` (group 1: the WebSocket URL) appears. */
function launchWithDebugUrl(command: string, args: readonly string[], pattern: RegExp): LaunchedBrowser {
  const child = new Deno.Command(command, { args: [...args], stdin: "null", stdout: "null", stderr: "piped" }).spawn();
  let found: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (found = resolve));
  const stderrDone = (async () => {
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      text += decoder.decode(chunk, { stream: true });
      const m = pattern.exec(text);
      if (m) found(m[1]);
    }
  })();
  return { child, url, stderrDone };
}

/** Wait (at most 5 s) for `name` to quit, else kill it; then wait for its stderr to close and remove `profile`. */
async function endBrowser(launched: LaunchedBrowser, name: string, profile: string): Promise<void> {
  const { child, stderrDone } = launched;
  const exited = await withTimeout(child.status, 5000, `${name} to quit`).then(() => true, () => false);
  if (!exited) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited meanwhile
    }
    await withTimeout(child.status, 10_000, `${name} to exit after SIGKILL`).catch(() => {});
  }
  await withTimeout(stderrDone, 10_000, `${name}'s stderr to close`).catch(() => {});
  await Deno.remove(profile, { recursive: true }).catch(() => {});
}

/** Open a WebSocket to `url` within STEP_TIMEOUT_MS; errors name `connectTo` (refused) or `what` (timed out). */
async function openWebSocket(url: string, connectTo: string, what: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error(`cannot connect to ${connectTo}`));
    }),
    STEP_TIMEOUT_MS,
    what,
  );
  return ws;
}

/** Poll `evaluate(expression)` every 200 ms until truthy; its last value, or throws naming `what` after `timeoutMs`. */
async function pollUntil<T>(
  evaluate: (expression: string) => Promise<T>,
  expression: string,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = performance.now() + timeoutMs;
  while (true) {
    const v = await evaluate(expression);
    if (v) return v;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
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

/** A page open in headless Chromium. */
export interface BrowserPage {
  /** The value of a JavaScript expression in the page (awaited if a promise), as JSON-able data. */
  evaluate<T>(expression: string): Promise<T>;
  /** Poll `expression` until it is truthy; returns its last value, or throws naming `what` after `timeoutMs`. */
  waitFor<T>(expression: string, timeoutMs: number, what: string): Promise<T>;
  /** A PNG of the whole page at the window's width. */
  screenshot(): Promise<Uint8Array>;
  /** Load another URL (a new document: a different path or query, not only a new hash) and wait for its load. */
  navigate(url: string): Promise<void>;
  /** Choose `paths` in the file input `selector` (as a user picking files), which fires its change event. */
  setFiles(selector: string, paths: readonly string[]): Promise<void>;
  /** The URLs of every request the page made so far (its documents, scripts, fetches). */
  requests(): string[];
  /** Console errors and uncaught exceptions so far, one line each. */
  errors(): string[];
  close(): Promise<void>;
}

function describe(e: CdpMessage): string | null {
  const p = e.params ?? {};
  if (e.method === "Runtime.exceptionThrown") {
    const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
    return `exception: ${d.exception?.description ?? d.text ?? JSON.stringify(d)}`;
  }
  if (e.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert")) {
    return `console.${p.type}: ${JSON.stringify(p.args)}`;
  }
  if (e.method === "Log.entryAdded" && (p.entry as { level?: string }).level === "error") {
    return `log: ${JSON.stringify(p.entry)}`;
  }
  return null;
}

/**
 * Start headless Chromium, open `url` in a `width` x `height` window and wait for its load event; `initScript` runs
 * in every document before its own scripts.
 */
export async function openInChromium(
  url: string,
  options: { width?: number; height?: number; chromium?: string; initScript?: string } = {},
): Promise<BrowserPage> {
  const profile = await Deno.makeTempDir({ prefix: "playground_chromium_" });
  const launched = launchWithDebugUrl(
    options.chromium ?? chromiumPath(),
    [...HEADLESS_FLAGS, `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank"],
    /DevTools listening on (ws:\/\/\S+)/,
  );
  let ws: WebSocket | null = null;
  const events: CdpMessage[] = [];
  const pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let sessionId = "";
  let loaded: () => void = () => {};
  let navigate: (to: string) => Promise<void> = () => Promise.reject(new Error("not connected"));
  const send = (method: string, params: Record<string, unknown> = {}, session = sessionId) => {
    const id = nextId++;
    const reply = new Promise<CdpMessage>((resolve, reject) => pending.set(id, { resolve, reject }));
    ws!.send(JSON.stringify({ id, method, params, ...(session ? { sessionId: session } : {}) }));
    return withTimeout(reply, STEP_TIMEOUT_MS, method).then((m) => m.result ?? {});
  };
  const close = async () => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      await send("Browser.close", {}, "").catch(() => {});
      const closed = new Promise<void>((r) => ws!.addEventListener("close", () => r()));
      ws.close();
      await withTimeout(closed, 5000, "the DevTools WebSocket to close").catch(() => {});
    }
    await endBrowser(launched, "Chromium", profile);
  };
  try {
    const address = await withTimeout(launched.url, STEP_TIMEOUT_MS, "Chromium to print its DevTools URL");
    ws = await openWebSocket(address, address, "the DevTools WebSocket to open");
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data as string) as CdpMessage;
      if (m.id !== undefined) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new Error(m.error.message));
        else p?.resolve(m);
        return;
      }
      events.push(m);
      if (m.method === "Page.loadEventFired") loaded();
    };
    navigate = async (to: string) => {
      const load = new Promise<void>((r) => (loaded = r));
      const nav = await send("Page.navigate", { url: to });
      if (nav.errorText) throw new Error(`navigation to ${to} failed: ${String(nav.errorText)}`);
      await withTimeout(load, STEP_TIMEOUT_MS, "the page's load event");
    };
    const { targetId } = await send("Target.createTarget", { url: "about:blank" }, "");
    sessionId = (await send("Target.attachToTarget", { targetId, flatten: true }, "")).sessionId as string;
    for (const domain of ["Runtime.enable", "Log.enable", "Page.enable", "Network.enable"]) await send(domain);
    await send("Emulation.setDeviceMetricsOverride", {
      width: options.width ?? 1200,
      height: options.height ?? 900,
      deviceScaleFactor: 1,
      mobile: false,
    });
    if (options.initScript) await send("Page.addScriptToEvaluateOnNewDocument", { source: options.initScript });
    await navigate(url);
  } catch (e) {
    await close();
    throw e;
  }
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await send("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`evaluating ${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return (r.result as { value: T }).value;
  };
  return {
    evaluate,
    navigate: (to: string) => navigate(to),
    waitFor: <T>(expression: string, timeoutMs: number, what: string) =>
      pollUntil((x) => evaluate<T>(x), expression, timeoutMs, what),
    async screenshot(): Promise<Uint8Array> {
      const metrics = await send("Page.getLayoutMetrics");
      const size = metrics.cssContentSize as { width: number; height: number };
      const png = await send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
      });
      return Uint8Array.from(atob(png.data as string), (c) => c.charCodeAt(0));
    },
    async setFiles(selector: string, paths: readonly string[]): Promise<void> {
      const found = await send("Runtime.evaluate", {
        expression: `document.querySelector(${JSON.stringify(selector)})`,
      });
      const objectId = (found.result as { objectId?: string }).objectId;
      if (!objectId) throw new Error(`no element ${selector}`);
      await send("DOM.setFileInputFiles", { files: paths, objectId });
    },
    requests: () =>
      events.filter((e) => e.method === "Network.requestWillBeSent").map((e) =>
        (e.params?.request as { url: string }).url
      ),
    errors: () => events.map(describe).filter((d): d is string => d !== null),
    close,
  };
}

/** A page open in headless Firefox: evaluate and wait (WebDriver BiDi). */
export type FirefoxPage = Pick<BrowserPage, "evaluate" | "waitFor" | "errors" | "close">;

/** Firefox's binary: $FIREFOX, else Debian's firefox-esr, else firefox; null when none starts. */
export async function firefoxPath(): Promise<string | null> {
  const candidates = [Deno.env.get("FIREFOX"), "firefox-esr", "firefox"].filter((c): c is string => !!c);
  for (const path of candidates) {
    try {
      const out = await new Deno.Command(path, { args: ["--version"], stdout: "null", stderr: "null" }).output();
      if (out.success) return path;
    } catch {
      // not installed: try the next
    }
  }
  return null;
}

interface BidiMessage {
  readonly id?: number;
  readonly type?: string;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: string;
  readonly message?: string;
}

/** Start headless Firefox (`path`), open `url` and wait for it to load. */
export async function openInFirefox(url: string, path: string): Promise<FirefoxPage> {
  const profile = await Deno.makeTempDir({ prefix: "playground_firefox_" });
  const launched = launchWithDebugUrl(
    path,
    ["--headless", "--no-remote", "--profile", profile, "--remote-debugging-port=0", "about:blank"],
    /WebDriver BiDi listening on (ws:\/\/\S+)/,
  );
  let ws: WebSocket | null = null;
  const events: BidiMessage[] = [];
  const pending = new Map<number, (m: BidiMessage) => void>();
  let nextId = 1;
  const send = async (method: string, params: Record<string, unknown>) => {
    const id = nextId++;
    const reply = new Promise<BidiMessage>((resolve) => pending.set(id, resolve));
    ws!.send(JSON.stringify({ id, method, params }));
    const m = await withTimeout(reply, STEP_TIMEOUT_MS, method);
    if (m.type === "error") throw new Error(`${method}: ${m.error}: ${m.message}`);
    return m.result ?? {};
  };
  const close = async () => {
    if (ws && ws.readyState === WebSocket.OPEN) {
      await send("browser.close", {}).catch(() => {});
      ws.close();
    }
    await endBrowser(launched, "Firefox", profile);
  };
  let context = "";
  try {
    const address = await withTimeout(launched.url, STEP_TIMEOUT_MS, "Firefox to print its WebDriver BiDi URL");
    ws = await openWebSocket(`${address}/session`, address, "the WebDriver BiDi WebSocket to open");
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data as string) as BidiMessage;
      if (m.id !== undefined) pending.get(m.id)?.(m);
      else events.push(m);
    };
    await send("session.new", { capabilities: {} });
    await send("session.subscribe", { events: ["log.entryAdded"] });
    const tree = await send("browsingContext.getTree", {});
    context = (tree.contexts as { context: string }[])[0].context;
    await send("browsingContext.navigate", { context, url, wait: "complete" });
  } catch (e) {
    await close();
    throw e;
  }
  const evaluate = async <T>(expression: string): Promise<T> => {
    // JSON across the wire: BiDi's own value serialisation is typed and nested.
    const r = await send("script.evaluate", {
      expression: `Promise.resolve(${expression}).then((v) => JSON.stringify(v === undefined ? null : v))`,
      target: { context },
      awaitPromise: true,
    });
    if (r.type === "exception") throw new Error(`evaluating ${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return JSON.parse((r.result as { value: string }).value) as T;
  };
  return {
    evaluate,
    waitFor: <T>(expression: string, timeoutMs: number, what: string) =>
      pollUntil((x) => evaluate<T>(x), expression, timeoutMs, what),
    errors: () =>
      events.filter((e) => e.method === "log.entryAdded" && e.params?.level === "error").map((e) =>
        `log: ${String(e.params?.text)}`
      ),
    close,
  };
}
