/**
 * Stopping a sweep: SIGINT, SIGTERM, or the end of the npx that launched it. A stop ends the running workers
 * (their finished runs are on disk, their snapshots resume the rest), wakes the lanes that wait for other
 * sweeps, and no further run starts.
 */
import { pidAlive } from "./claims.ts";

/** Listens for what stops a sweep while it runs; `dispose()` stops listening. */
export class SweepStop {
  #reason: string | null = null;
  /** The running workers, which a stop ends with SIGTERM. */
  readonly workers = new Set<Deno.ChildProcess>();
  readonly #sleepers = new Set<() => void>();
  readonly #handlers: (readonly [Deno.Signal, () => void])[];
  readonly #watch: ReturnType<typeof setInterval>;
  readonly #log: (line: string) => void;

  constructor(log: (line: string) => void) {
    this.#log = log;
    this.#handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, () => this.stop(s)] as const);
    for (const [s, h] of this.#handlers) Deno.addSignalListener(s, h);
    // The README's launcher (npx -> sh -> deno task -> this process) does not pass signals on: when the npx above
    // this sweep ends (killed with SIGTERM), stop as on a signal instead of training on, detached. Only an npm or
    // npx process is watched: a shell that started the sweep in the background may end without meaning "stop".
    const launchers = launcherPids();
    this.#watch = setInterval(() => {
      const gone = launchers.find((pid) => !pidAlive(pid));
      if (gone !== undefined) this.stop(`the end of its launcher (npx, pid ${gone})`);
    }, 1000);
  }

  /** What stopped the sweep (a signal's name, the end of its launcher), or null while it runs. */
  get reason(): string | null {
    return this.#reason;
  }

  /** Stop the sweep (once): end the workers and wake the waiting lanes. */
  stop(reason: string): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#log(`${reason}: stopping ${this.workers.size} running job(s); finished runs are kept`);
    for (const c of this.workers) {
      try {
        c.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    for (const wake of this.#sleepers) wake();
  }

  /** Wait `ms`, or until the sweep is stopped. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        r();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  /** Stop listening for signals and watching the launcher (the reason stays readable). */
  dispose(): void {
    for (const [s, h] of this.#handlers) Deno.removeSignalListener(s, h);
    clearInterval(this.#watch);
  }
}

/** The npm / npx processes above this one (Linux /proc; none elsewhere), nearest first. */
export function launcherPids(): number[] {
  const out: number[] = [];
  let pid = Deno.pid;
  for (let hops = 0; hops < 16; hops++) {
    let ppid: number, cmd: string;
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      cmd = Deno.readTextFileSync(`/proc/${ppid}/cmdline`).replaceAll("\0", " ");
    } catch {
      break;
    }
    if (!Number.isInteger(ppid) || ppid <= 1) break;
    if (/\bnpm exec\b|\bnpx\b|npm-cli\.js|npx-cli\.js/.test(cmd)) out.push(ppid);
    pid = ppid;
  }
  return out;
}
