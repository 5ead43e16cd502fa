/**
 * Progress for long sweeps on stderr: one live line (redrawn in place) on a terminal, compact periodic log
 * lines otherwise (CI logs, pipes).
 */

import type { RunProgress, SweepReporter } from "../store/progress.ts";

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`
    : `${m}:${String(r).padStart(2, "0")}`;
}

/** One compact description of a run's state; the ETA is to the end of its budget. */
export function describe(p: RunProgress): string {
  const eta = (p.steps - p.step) / p.stepsPerSecond;
  return `[${p.index}/${p.total}] ${p.label} step ${p.step}/${p.steps} loss ${p.loss.toFixed(3)} ` +
    `acc ${(100 * p.accuracy).toFixed(1)}% ${p.stepsPerSecond.toFixed(0)} steps/s ETA<=${clock(eta)}`;
}

/** Prints progress of concurrent runs; call `log` for ordinary lines so the live line is kept intact. */
export class ProgressBoard implements SweepReporter {
  readonly #live: boolean;
  readonly #active = new Map<number, RunProgress>();
  readonly #lastPrinted = new Map<number, number>();
  readonly #intervalMs: number;
  readonly #encoder = new TextEncoder();

  constructor(live = Deno.stderr.isTerminal(), intervalMs = 15000) {
    this.#live = live;
    this.#intervalMs = intervalMs;
  }

  #write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }

  #redraw(): void {
    if (!this.#live) return;
    const width = Deno.consoleSize?.().columns ?? 120;
    const line = [...this.#active.values()].map(describe).join(" | ");
    this.#write(`\r\x1b[K${line.slice(0, Math.max(10, width - 1))}`);
  }

  /** A whole line of text (start, finish, skip messages). */
  log(text: string): void {
    if (this.#live) this.#write("\r\x1b[K");
    this.#write(text + "\n");
    this.#redraw();
  }

  update(p: RunProgress): void {
    this.#active.set(p.index, p);
    if (this.#live) return this.#redraw();
    const now = performance.now();
    const last = this.#lastPrinted.get(p.index);
    if (last === undefined || now - last >= this.#intervalMs) {
      this.#lastPrinted.set(p.index, now);
      this.#write(describe(p) + "\n");
    }
  }

  finish(index: number): void {
    this.#active.delete(index);
    this.#lastPrinted.delete(index);
    this.#redraw();
  }

  /** Clear the live line before exiting. */
  close(): void {
    if (this.#live) this.#write("\r\x1b[K");
  }
}
