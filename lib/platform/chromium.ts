/**
 * Finding a headless browser: Debian's Chromium at /usr/bin/chromium (or $CHROMIUM), checked by starting it
 * (`--version`), so a broken install counts as missing, and the flags every headless start uses. Used by the
 * browser test and by the PDF reports (lib/site/).
 */

/** Where the browser is looked for unless $CHROMIUM names another binary. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

/** The command that installs it on Debian. */
export const CHROMIUM_INSTALL = "apt-get update && apt-get install -y chromium";

/**
 * Flags for a quiet, self-contained headless start: no sandbox (containers, root), no GPU, no network of its
 * own, no first-run or sync. Every start also gets `--user-data-dir=<a fresh temporary folder>`.
 */
export const HEADLESS_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** The browser to use: $CHROMIUM, else DEFAULT_CHROMIUM. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM") ?? DEFAULT_CHROMIUM;
}

/** A browser that started, or why none could. */
export type ChromiumProbe =
  | { readonly ok: true; readonly path: string; readonly version: string }
  | { readonly ok: false; readonly path: string; readonly reason: string };

/** Start `<path> --version` and report whether it ran. */
export async function probeChromium(path: string = chromiumPath()): Promise<ChromiumProbe> {
  try {
    const out = await new Deno.Command(path, { args: ["--version"], stdout: "piped", stderr: "piped" }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
      return { ok: false, path, reason: `${path} --version exited with code ${out.code}${err ? `: ${err}` : ""}` };
    }
    return { ok: true, path, version: new TextDecoder().decode(out.stdout).trim() };
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound ? `${path} is not installed` : `${path} could not start (${e})`;
    return { ok: false, path, reason };
  }
}
