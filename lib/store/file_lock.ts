/**
 * A lock file for short critical sections shared by processes on one or many machines (a shared folder):
 * created exclusively like a run claim (lib/store/claims.ts: host, pid, time; a lock left by a dead process on
 * this host is taken over at once). Sweeps and shards hold `<dir>/results.json.lock` while they read the run
 * files and rewrite results.json and the reports, so the last writer has seen every run file written before it.
 * A lock held longer than `timeoutMs` (its holder died on another machine) is broken, with one line saying so.
 */
import { readClaim, releaseClaim, tryClaim } from "./claims.ts";

export interface FileLockOptions {
  /** How long to wait for a held lock before breaking it (ms). */
  readonly timeoutMs?: number;
  /** How often to try again (ms). */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

/** Per lock path, the end of this process's queue for it. */
const queues = new Map<string, Promise<void>>();

/**
 * Run `fn` while holding the lock file `path`. Callers in one process queue for it first, so the file is only
 * ever contended between processes (a claim naming this process is judged by whether this process made it,
 * lib/store/claims.ts, which two lanes racing on one file could get wrong while one of them releases it).
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const before = queues.get(path) ?? Promise.resolve();
  let leave!: () => void;
  const mine = new Promise<void>((r) => leave = r);
  const tail = before.then(() => mine);
  queues.set(path, tail);
  await before;
  try {
    return await holding(path, fn, opts);
  } finally {
    leave();
    if (queues.get(path) === tail) queues.delete(path);
  }
}

async function holding<T>(path: string, fn: () => Promise<T>, opts: FileLockOptions): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const pollMs = opts.pollMs ?? 50;
  let since = performance.now();
  for (;;) {
    const attempt = await tryClaim(path, "lock");
    if (attempt.ok) break;
    if (performance.now() - since > timeoutMs) {
      const h = attempt.holder ?? await readClaim(path);
      const who = h === null ? "an unknown process" : `pid ${h.pid} on ${h.host} since ${h.startedAt}`;
      (opts.log ?? console.error)(`${path}: held by ${who} for over ${timeoutMs / 1000} s; breaking it`);
      await Deno.remove(path).catch(() => {});
      since = performance.now();
      continue;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  try {
    return await fn();
  } finally {
    await releaseClaim(path);
  }
}
