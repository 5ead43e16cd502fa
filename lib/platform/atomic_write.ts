/**
 * Crash-safe file writes: write a temporary file in the same folder, then rename it over the target.
 * A reader (or an interrupted sweep) only ever sees the old file or the complete new one.
 */
import { dirname } from "node:path";

let counter = 0;

/** Write `bytes` to `path` atomically, creating the folder if needed. */
export async function writeBytesAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${counter++}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Write `text` (as UTF-8) to `path` atomically, creating the folder if needed. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeBytesAtomic(path, new TextEncoder().encode(text));
}

/** JSON.stringify with two-space indentation and a final newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Whether `e` is a failure to write a file (disk full, read-only, over quota, no permission). */
export function isWriteFailure(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name} ${e.message}` : String(e);
  return e instanceof Deno.errors.PermissionDenied ||
    /No space left|os error 28|Read-only file system|os error 30|Disk quota|os error 122/.test(text);
}
