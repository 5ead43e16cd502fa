/**
 * `deno task playground`: build the Recall Playground, one self-contained HTML file (reports/playground/index.html
 * unless --out says otherwise) that opens from disk, offline, and trains the models in the browser with the same
 * lib code the scripts train with.
 *
 * The page's script (main.ts) and the worker's (worker.ts) are bundled with `deno bundle --platform browser
 * --minify`, and tfjs-backend-wasm's SIMD binary is inlined as base64 (page.ts). The build refuses a bundle that
 * contains Deno API calls (a module with file access pulled in) and a page over MAX_PAGE_BYTES.
 *
 * --screenshot FILE also opens the page in headless Chromium with --hash, lets it train to the end and saves a PNG;
 * --measure HASH trains the hash's first model in the page and with `deno task run` and prints both speeds;
 * --measure-race HASH races the hash's models in the page and prints the race's time and the page's long tasks.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { writeBytesAtomic } from "../lib/platform/atomic_write.ts";
import { pageHtml } from "./page.ts";
import { pageUrl } from "./browser.ts";
import { measure, measureRace, measureSettings, screenshot } from "./measure.ts";
import { CHROMIUM_INSTALL, probeChromium } from "../lib/platform/chromium.ts";

/** The repository's root. */
const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where the page goes unless --out says otherwise (the reports' index links to it there). */
export const DEFAULT_OUT = "reports/playground";

/** The largest page the build accepts: 3 MB. */
export const MAX_PAGE_BYTES = 3_000_000;

/** tfjs-backend-wasm's SIMD binary, the one tfjs picks in a page without cross-origin isolation (no threads). */
const WASM_PATH = join(ROOT, "node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm");

async function run(args: string[]): Promise<string> {
  const out = await new Deno.Command(args[0], { args: args.slice(1), cwd: ROOT, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`${args.slice(0, 3).join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** `entry` (relative to the root) bundled for the browser as one minified script. */
export async function bundle(entry: string): Promise<string> {
  const tmp = await Deno.makeTempFile({ prefix: "playground_", suffix: ".js" });
  try {
    await run([
      Deno.execPath(),
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "--format",
      "iife",
      "-o",
      tmp,
      entry,
    ]);
    const js = await Deno.readTextFile(tmp);
    const deno = /\bDeno\.[A-Za-z]+/.exec(js);
    if (deno) {
      throw new Error(`${entry}'s bundle calls ${deno[0]}: a module that uses the Deno API was bundled`);
    }
    return js;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The folders the page's scripts import from (not lib/site, lib/cli: the reports and the commands). */
const BUNDLED = [
  "playground",
  ...["task", "models", "kernels", "training", "probes", "store", "platform", "recipes", "stats"]
    .map((d) => `lib/${d}`),
];

/** The commit the page is built from, with "+ uncommitted changes" when a bundled folder differs from it. */
async function commitText(): Promise<string> {
  try {
    const head = (await run(["git", "rev-parse", "--short", "HEAD"])).trim();
    const dirty = (await run(["git", "status", "--porcelain", "--", ...BUNDLED])).trim() !== "";
    return head + (dirty ? " + uncommitted changes" : "");
  } catch {
    return "unknown commit";
  }
}

export interface BuiltPage {
  readonly path: string;
  readonly bytes: number;
  readonly parts: { readonly main: number; readonly worker: number; readonly wasm: number };
}

/** Build the page into `outDir`/index.html; throws if a bundle uses the Deno API or the page is too large. */
export async function buildPlayground(outDir: string = DEFAULT_OUT): Promise<BuiltPage> {
  const [mainJs, workerJs, wasm, commit, tfjs] = await Promise.all([
    bundle("playground/main.ts"),
    bundle("playground/worker.ts"),
    Deno.readFile(WASM_PATH),
    commitText(),
    Deno.readTextFile(join(dirname(dirname(WASM_PATH)), "package.json")).then((t) => JSON.parse(t).version as string),
  ]);
  const html = pageHtml({
    mainJs,
    workerJs,
    wasmBase64: base64(wasm),
    buildNote: `Built by deno task playground from commit ${commit} on ${new Date().toISOString().slice(0, 10)}; ` +
      `tfjs-backend-wasm ${tfjs} (SIMD), inlined: the page loads nothing from the network.`,
  });
  const bytes = new TextEncoder().encode(html);
  if (bytes.length > MAX_PAGE_BYTES) {
    throw new Error(`the page is ${(bytes.length / 1e6).toFixed(2)} MB, over the ${MAX_PAGE_BYTES / 1e6} MB limit`);
  }
  const path = join(outDir, "index.html");
  await writeBytesAtomic(path, bytes);
  return { path, bytes: bytes.length, parts: { main: mainJs.length, worker: workerJs.length, wasm: wasm.length } };
}

/** The race the screenshot shows: the page's defaults (all five models at L = 16, 1,000 steps), to the end. */
export const SCREENSHOT_HASH = "model=tf-learned,tf-rope,tf-nope,mamba,hybrid&L=16&steps=1000&autorun=1";

const USAGE = `deno task playground [--out DIR] [--screenshot FILE [--hash HASH]] [--measure HASH] [--measure-race HASH]

Build the Recall Playground: one HTML file that opens from disk (offline) and trains the models in the browser
with the scripts' code. Open <out>/index.html by double-click (Chromium, Firefox).`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: DEFAULT_OUT, help: "Folder of the page (index.html)." },
  {
    name: "screenshot",
    type: "file",
    help: "Also open the page in headless Chromium with --hash, train to the end and save a PNG here.",
  },
  { name: "hash", type: "string", default: SCREENSHOT_HASH, help: "The settings (URL hash) the screenshot trains." },
  {
    name: "measure",
    type: "string",
    help:
      'Train this hash\'s first model in the page (headless Chromium) and with deno task run; print both speeds, e.g. "model=hybrid&L=64&steps=1000".',
  },
  {
    name: "measure-race",
    type: "string",
    help:
      "Race this hash's models in the page (headless Chromium) and print the race's time and the page's long tasks, e.g. \"model=tf-learned,tf-rope,tf-nope,mamba,hybrid&L=16&steps=1000\".",
  },
  {
    name: "browser",
    type: "string",
    choices: ["chromium", "firefox"],
    default: "chromium",
    help: "The headless browser --measure trains in.",
  },
];

if (import.meta.main) {
  await cliMain(async () => {
    const f = parseFlags(Deno.args, FLAGS, USAGE);
    if (!f) return;
    // A measuring hash is read before anything is built: a key that is not a setting is refused.
    for (const flag of ["measure", "measure-race"] as const) {
      if (f[flag] !== undefined) measureSettings(f[flag] as string, `--${flag}`);
    }
    const built = await buildPlayground(f.out as string);
    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    const { main, worker, wasm } = built.parts;
    console.log(
      `wrote ${built.path}: ${mb(built.bytes)} (page script ${mb(main)}, worker ${mb(worker)}, ` +
        `tfjs wasm ${mb(wasm)} before base64)`,
    );
    if (
      f.screenshot !== undefined || f["measure-race"] !== undefined ||
      (f.measure !== undefined && f.browser === "chromium")
    ) {
      const browser = await probeChromium();
      if (!browser.ok) throw new UsageError(`${browser.reason}; install it with: ${CHROMIUM_INSTALL}`);
    }
    if (f.screenshot !== undefined) {
      const png = await screenshot(pageUrl(built.path, f.hash as string));
      await writeBytesAtomic(f.screenshot as string, png);
      console.log(`wrote ${f.screenshot} (${f.hash})`);
    }
    if (f.measure !== undefined) {
      console.log(await measure(built.path, f.measure as string, f.browser as "chromium" | "firefox"));
    }
    if (f["measure-race"] !== undefined) console.log(await measureRace(built.path, f["measure-race"] as string));
  });
}
