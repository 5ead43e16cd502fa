/**
 * Claims: before a sweep trains a pending run it creates `<runs>/<key>.claim` with exclusive create (O_EXCL),
 * naming its host, pid and start time. Another sweep on the same folder (or another machine sharing it) sees
 * the claim and does not train that run. The claim is removed once the run file is written, or the run failed.
 * A claim left by a process that is no longer alive on this host is stale and may be taken over, and so is one
 * that names this very process but that it did not make: in a container restarted in place (a Kubernetes pod
 * with restartPolicy OnFailure) the new process often gets the pid of the one that died.
 */

/** Who holds a run. */
export interface Claim {
  readonly key: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
}

/** The outcome of trying to claim a run. */
export type ClaimAttempt =
  | { readonly ok: true; readonly tookOver: Claim | null }
  | { readonly ok: false; readonly holder: Claim | null };

/** This machine's host name (as claims record it). */
export function hostName(): string {
  return Deno.hostname();
}

/** Whether process `pid` is alive on this host (Linux: /proc/<pid> exists). */
export function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    return true; // cannot tell: assume alive, never steal a live claim
  }
}

/** The claim in a claim file, or null when it is missing or unreadable (e.g. being written). */
export async function readClaim(path: string): Promise<Claim | null> {
  try {
    const c = JSON.parse(await Deno.readTextFile(path));
    return typeof c?.host === "string" && typeof c?.pid === "number" ? c as Claim : null;
  } catch {
    return null;
  }
}

/** Claim files this process created and has not released. */
const made = new Set<string>();

/** A claim held by a process that is gone from this host (`path`: where it was read, to tell our own claims). */
export function isStale(claim: Claim, path?: string): boolean {
  if (claim.host !== hostName()) return false;
  if (claim.pid === Deno.pid) return path !== undefined && !made.has(path);
  return !pidAlive(claim.pid);
}

async function create(path: string, claim: Claim): Promise<boolean> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
  made.add(path); // before the write: another lane of this process may read the file as soon as it has content
  try {
    await file.write(new TextEncoder().encode(JSON.stringify(claim) + "\n"));
  } finally {
    file.close();
  }
  return true;
}

/** Remove a stale claim, but only if the file still holds that same claim (another taker may have replaced it). */
async function removeStale(path: string, stale: Claim): Promise<void> {
  const aside = `${path}.stale-${Deno.pid}`;
  try {
    await Deno.rename(path, aside);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  const moved = await readClaim(aside);
  if (moved && (moved.pid !== stale.pid || moved.startedAt !== stale.startedAt || moved.host !== stale.host)) {
    // Someone else's fresh claim: put it back unless a newer one is already there.
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
}

/**
 * Seconds a claim file may stay empty or unreadable: the moment between its creation and its write. Older, it is
 * damaged (a disk filled, a process killed mid-write) and taken over, instead of blocking the run for ever.
 */
export const CLAIM_WRITE_GRACE_SECONDS = 10;

/** Whether the claim file at `path` is unreadable and older than the write grace: a damaged claim. */
async function damagedClaim(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    const age = (Date.now() - (info.mtime?.getTime() ?? Date.now())) / 1000;
    return age > CLAIM_WRITE_GRACE_SECONDS;
  } catch {
    return false; // gone meanwhile: the next attempt creates it
  }
}

/** Claim run `key` at `path` for this process; takes over a stale or damaged claim. */
export async function tryClaim(path: string, key: string): Promise<ClaimAttempt> {
  const mine: Claim = { key, host: hostName(), pid: Deno.pid, startedAt: new Date().toISOString() };
  if (await create(path, mine)) return { ok: true, tookOver: null };
  const holder = await readClaim(path);
  if (holder === null && (await damagedClaim(path)) && (await readClaim(path)) === null) {
    const aside = `${path}.damaged-${Deno.pid}`;
    await Deno.rename(path, aside).then(() => Deno.remove(aside), () => {});
    return (await create(path, mine)) ? { ok: true, tookOver: null } : { ok: false, holder: await readClaim(path) };
  }
  if (holder === null || !isStale(holder, path)) return { ok: false, holder };
  await removeStale(path, holder);
  return (await create(path, mine)) ? { ok: true, tookOver: holder } : { ok: false, holder: await readClaim(path) };
}

/** Give up a claim this process holds (no error if it is already gone; a claim it did not make is left alone). */
export async function releaseClaim(path: string): Promise<void> {
  if (!made.delete(path)) return;
  const c = await readClaim(path);
  if (c !== null && (c.pid !== Deno.pid || c.host !== hostName())) return; // not ours (taken over)
  await Deno.remove(path).catch(() => {});
}
