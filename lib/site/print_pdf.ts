/**
 * Printing an HTML file to PDF with headless Chromium (`--print-to-pdf`): the page's own print styles decide
 * the paper, margins, page breaks and the page-number footer (CSS @page margin boxes), so Chromium's header
 * and footer are turned off. Each print gets a fresh, temporary profile, a bounded time, and its output is
 * checked to be a PDF before anyone uses it.
 */
import { HEADLESS_FLAGS } from "../platform/chromium.ts";

/** Longest a print may take before Chromium is killed (a long report prints in a few seconds). */
export const PRINT_TIMEOUT_MS = 180_000;

/** Print `htmlPath` to `pdfPath` with the browser at `chromium`; throws with Chromium's last words on failure. */
export async function printToPdf(
  chromium: string,
  htmlPath: string,
  pdfPath: string,
  timeoutMs: number = PRINT_TIMEOUT_MS,
): Promise<void> {
  const profile = await Deno.makeTempDir({ prefix: "recall_lab_chromium_" });
  try {
    const child = new Deno.Command(chromium, {
      args: [
        ...HEADLESS_FLAGS,
        `--user-data-dir=${profile}`,
        "--no-pdf-header-footer",
        `--print-to-pdf=${pdfPath}`,
        new URL(`file://${htmlPath}`).href,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const status = await Promise.race([child.status, timedOut]);
    clearTimeout(timer);
    if (status === "timeout") {
      try {
        child.kill("SIGKILL");
      } catch {
        // it exited meanwhile
      }
      await child.status;
      throw new Error(`Chromium did not finish printing ${htmlPath} within ${timeoutMs / 1000} s`);
    }
    const words = (await stderr).trim().split("\n").filter((l) => !/dbus|bus\.cc|object_proxy/.test(l));
    if (!status.success) {
      throw new Error(`Chromium exited with code ${status.code} printing ${htmlPath}: ${words.at(-1) ?? ""}`);
    }
    const head = await readHead(pdfPath);
    if (head !== "%PDF-") {
      throw new Error(`Chromium wrote no PDF for ${htmlPath} (${words.at(-1) ?? "no message"})`);
    }
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

/** The first five bytes of a file as text, or null when it does not exist. */
async function readHead(path: string): Promise<string | null> {
  try {
    const file = await Deno.open(path);
    try {
      const buf = new Uint8Array(5);
      const n = await file.read(buf);
      return new TextDecoder().decode(buf.subarray(0, n ?? 0));
    } finally {
      file.close();
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Pages of a PDF Chromium wrote (its page objects are not compressed: one `/Type /Page` per page). */
export function pageCount(pdf: Uint8Array): number {
  const text = new TextDecoder("latin1").decode(pdf);
  return [...text.matchAll(/\/Type\s*\/Page(?![A-Za-z])/g)].length;
}
