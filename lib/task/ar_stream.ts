/**
 * One AR sequence drawn a chunk at a time, with exactly the draws of ar_data.ts `arBatch` (q, v, i first, then one
 * filler draw per position from left to right), so a sequence of 2^20 tokens never has to exist whole, and a
 * streamed row equals the row `arBatch` would have produced from the same stream state (tests/evaluate_long_test.ts
 * checks it).
 *
 * `rowStarts` walks a stream through `count` rows, keeping each row's starting state (and its label): rows can then
 * be replayed side by side (restoreStream), which is how sequences of one length are evaluated in lockstep while the
 * stream still hands them out one after another, as arBatch does.
 *
 * Shape letters: b batch, c chunk, l length.
 */
import type { RandomStream, StreamState } from "./random.ts";
import type { ArSpec } from "./ar_data.ts";

/** A row of `length` tokens produced left to right (see the file comment). */
export class ArRowStream {
  readonly length: number;
  readonly query: number;
  /** The value the sequence must recall. */
  readonly label: number;
  /** Position of the first query (the value sits tau later, the second query at l - 1). */
  readonly queryIndex: number;
  readonly #rng: RandomStream;
  readonly #spec: ArSpec;
  #next = 0;

  constructor(rng: RandomStream, spec: ArSpec, length: number) {
    if (!Number.isInteger(spec.tau) || spec.tau < 1 || !Number.isInteger(length) || length < spec.tau + 2) {
      throw new Error(`ArRowStream: length must be an integer >= tau + 2 = ${spec.tau + 2}, got ${length}`);
    }
    this.#rng = rng;
    this.#spec = spec;
    this.length = length;
    this.query = rng.int(spec.M);
    this.label = rng.int(spec.K);
    this.queryIndex = rng.int(length - spec.tau - 1);
  }

  /** Tokens produced so far. */
  get position(): number {
    return this.#next;
  }

  /** Write the next `out.length` tokens into `out`. */
  fill(out: Int32Array): void {
    const l = this.length, q = this.query, i = this.queryIndex, valueAt = i + this.#spec.tau;
    if (this.#next + out.length > l) throw new Error(`ArRowStream: ${this.#next + out.length} tokens of ${l} asked`);
    for (let j = 0; j < out.length; j++) {
      const p = this.#next + j;
      if (p === i || p === l - 1) out[j] = q;
      else if (p === valueAt) out[j] = this.label;
      else {
        const draw = this.#rng.int(this.#spec.K - 1); // one of the K-1 tokens other than q: skip over q
        out[j] = draw >= q ? draw + 1 : draw;
      }
    }
    this.#next += out.length;
  }

  /** Draw the rest of the row, discarding it (to move the stream to the next row's start). */
  skip(chunk = 65536): void {
    const buffer = new Int32Array(chunk);
    while (this.#next < this.length) this.fill(buffer.subarray(0, Math.min(chunk, this.length - this.#next)));
  }
}

/** Where each of `count` rows of `length` starts in `rng` (which is advanced past them all), and its label. */
export function rowStarts(
  rng: RandomStream,
  spec: ArSpec,
  length: number,
  count: number,
): { state: StreamState; label: number }[] {
  const starts: { state: StreamState; label: number }[] = [];
  for (let r = 0; r < count; r++) {
    const state = rng.snapshot();
    const row = new ArRowStream(rng, spec, length);
    row.skip();
    starts.push({ state, label: row.label });
  }
  return starts;
}
