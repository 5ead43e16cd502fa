/**
 * Attention probe statistics from softmax weights [b, h, l, l] (probe_forward.ts), per head:
 * - previous-token score: mean weight from t to t-1 over t >= 1 (a previous-token head scores about 1;
 *   uniform attention gives 1/(t+1) at 0-based t, i.e. 1/t counting keys from 1);
 * - lag-tau score: the same for t to t-tau (the head an induction circuit needs when the value sits tau after
 *   the query; equal to the previous-token score at tau = 1), also kept per position t;
 * - induction score: the weight from the final query (l-1) to the value's position i+tau;
 * - the pattern aligned on the first query i: mean weight from row i+r to key i+c for r, c in -W..W
 *   (null where no sequence has both inside 0..l-1), and the final query's row at keys i+c.
 *
 * Glossary: b batch, h heads, l length, t query position, s key position, i first query, W window.
 */

/** Attention statistics of one layer at one length, per head (arrays indexed by head). */
export interface AttentionStats {
  readonly length: number;
  readonly sequences: number;
  readonly previousToken: number[];
  readonly lagTau: number[];
  readonly induction: number[];
  /** Per head, (2W+1) x (2W+1) row-major: row r+W (query i+r), column c+W (key i+c). */
  readonly aligned: (number | null)[][];
  /** Per head, 2W+1: the final query's weight on key i+c. */
  readonly finalRow: (number | null)[][];
  /** Per head, l: the lag-tau weight at each position t (null for t < tau). */
  readonly lagByPosition: (number | null)[][];
}

/** Sums over sequences, turned into means by `finish`. */
export class AttentionAccumulator {
  readonly #h: number;
  readonly #l: number;
  readonly #tau: number;
  readonly #w: number;
  #sequences = 0;
  readonly #prev: Float64Array;
  readonly #lag: Float64Array;
  readonly #induction: Float64Array;
  readonly #aligned: Float64Array;
  readonly #alignedCount: Float64Array;
  readonly #final: Float64Array;
  readonly #finalCount: Float64Array;
  readonly #lagPos: Float64Array;

  constructor(heads: number, length: number, tau: number, window: number) {
    this.#h = heads;
    this.#l = length;
    this.#tau = tau;
    this.#w = window;
    const side = 2 * window + 1;
    this.#prev = new Float64Array(heads);
    this.#lag = new Float64Array(heads);
    this.#induction = new Float64Array(heads);
    this.#aligned = new Float64Array(heads * side * side);
    this.#alignedCount = new Float64Array(side * side);
    this.#final = new Float64Array(heads * side);
    this.#finalCount = new Float64Array(side);
    this.#lagPos = new Float64Array(heads * length);
  }

  /** Add b sequences: `weights` [b, h, l, l], `firstQuery` [b]. */
  add(weights: Float32Array, firstQuery: Int32Array): void {
    const h = this.#h, l = this.#l, tau = this.#tau, W = this.#w, side = 2 * W + 1;
    const b = firstQuery.length;
    if (weights.length !== b * h * l * l) throw new Error(`attention probe: weights must be [${b}, ${h}, ${l}, ${l}]`);
    for (let r = 0; r < b; r++) {
      const i = firstQuery[r];
      for (let r0 = -W; r0 <= W; r0++) {
        for (let c0 = -W; c0 <= W; c0++) {
          if (i + r0 >= 0 && i + r0 < l && i + c0 >= 0 && i + c0 < l) this.#alignedCount[(r0 + W) * side + c0 + W]++;
        }
        if (i + r0 >= 0 && i + r0 < l) this.#finalCount[r0 + W]++;
      }
      for (let head = 0; head < h; head++) {
        const base = (r * h + head) * l * l;
        const at = (t: number, s: number) => weights[base + t * l + s];
        let prev = 0, lag = 0;
        for (let t = 1; t < l; t++) prev += at(t, t - 1);
        for (let t = tau; t < l; t++) {
          const v = at(t, t - tau);
          lag += v;
          this.#lagPos[head * l + t] += v;
        }
        this.#prev[head] += l > 1 ? prev / (l - 1) : 0;
        this.#lag[head] += l > tau ? lag / (l - tau) : 0;
        this.#induction[head] += at(l - 1, i + tau);
        for (let r0 = -W; r0 <= W; r0++) {
          const t = i + r0;
          if (t < 0 || t >= l) continue;
          for (let c0 = -W; c0 <= W; c0++) {
            const s = i + c0;
            if (s >= 0 && s < l) this.#aligned[(head * side + r0 + W) * side + c0 + W] += at(t, s);
          }
          this.#final[head * side + r0 + W] += at(l - 1, t);
        }
      }
      this.#sequences++;
    }
  }

  finish(): AttentionStats {
    const h = this.#h, l = this.#l, n = this.#sequences, W = this.#w, side = 2 * W + 1;
    const heads = Array.from({ length: h }, (_, k) => k);
    const mean = (sum: number, count: number) => (count > 0 ? sum / count : null);
    return {
      length: l,
      sequences: n,
      previousToken: heads.map((k) => this.#prev[k] / n),
      lagTau: heads.map((k) => this.#lag[k] / n),
      induction: heads.map((k) => this.#induction[k] / n),
      aligned: heads.map((k) =>
        Array.from({ length: side * side }, (_, j) => mean(this.#aligned[k * side * side + j], this.#alignedCount[j]))
      ),
      finalRow: heads.map((k) =>
        Array.from({ length: side }, (_, j) => mean(this.#final[k * side + j], this.#finalCount[j]))
      ),
      lagByPosition: heads.map((k) =>
        Array.from({ length: l }, (_, t) => (t < this.#tau ? null : this.#lagPos[k * l + t] / n))
      ),
    };
  }
}
