/**
 * Adam with linear warm-up and global gradient-norm clipping, updating parameters over typed arrays.
 *
 * tf.train.adam spends ~10 tf ops per variable per step; here each variable costs one read of its gradient
 * and one assign, and warm-up and clipping need no extra tf ops. `tests/adam_test.ts` checks that it follows
 * tf.train.adam step for step when warm-up and clipping are off.
 */
import * as tf from "@tensorflow/tfjs";

export interface AdamOptions {
  readonly lr: number;
  readonly warmup: number;
  /** Clip the global L2 norm of all gradients to this value (0: no clipping). */
  readonly clip: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

export interface AdamStepInfo {
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  readonly lr: number;
}

/** What `Adam.state()` returns and `restore` takes. */
export interface AdamState {
  readonly t: number;
  readonly m: readonly Float32Array[];
  readonly v: readonly Float32Array[];
}

/** Adam state for a fixed list of variables. */
export class Adam {
  readonly #vars: readonly tf.Variable[];
  readonly #values: Float32Array[];
  readonly #m: Float32Array[];
  readonly #v: Float32Array[];
  readonly #opts: Required<AdamOptions>;
  #t = 0;

  constructor(vars: readonly tf.Variable[], opts: AdamOptions) {
    this.#vars = vars;
    this.#values = vars.map((v) => v.dataSync().slice() as Float32Array);
    this.#m = vars.map((v) => new Float32Array(v.size));
    this.#v = vars.map((v) => new Float32Array(v.size));
    this.#opts = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, ...opts };
  }

  /** The optimiser's state (copies): steps taken and the two moment estimates per variable. */
  state(): AdamState {
    return { t: this.#t, m: this.#m.map((a) => a.slice()), v: this.#v.map((a) => a.slice()) };
  }

  /**
   * Continue from `state` (of an Adam over variables of the same shapes, whose values the variables hold now):
   * the next `step` is the one the saved optimiser would have taken.
   */
  restore(state: AdamState): void {
    const fits = (a: readonly Float32Array[]) =>
      a.length === this.#vars.length && a.every((x, i) => x.length === this.#vars[i].size);
    if (!Number.isInteger(state.t) || state.t < 0 || !fits(state.m) || !fits(state.v)) {
      throw new Error("Adam state does not fit these variables");
    }
    this.#t = state.t;
    state.m.forEach((a, i) => this.#m[i].set(a));
    state.v.forEach((a, i) => this.#v[i].set(a));
    this.#vars.forEach((v, i) => this.#values[i].set(v.dataSync() as Float32Array));
  }

  /** Learning rate at 1-based step t: linear warm-up to lr, then constant. */
  lrAt(t: number): number {
    const { lr, warmup } = this.#opts;
    return warmup > 0 && t <= warmup ? lr * t / warmup : lr;
  }

  /** One update from gradients given in the same order as the variables. Does not dispose `grads`. */
  step(grads: readonly tf.Tensor[]): AdamStepInfo {
    const { beta1, beta2, epsilon, clip } = this.#opts;
    const g = grads.map((t) => t.dataSync() as Float32Array);
    let sq = 0;
    for (const gi of g) for (let j = 0; j < gi.length; j++) sq += gi[j] * gi[j];
    const gradNorm = Math.sqrt(sq);
    const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
    this.#t += 1;
    const t = this.#t;
    const lr = this.lrAt(t);
    // tf.train.adam's form: lr * mHat / (sqrt(vHat) + eps) with bias corrections.
    const c1 = 1 / (1 - beta1 ** t);
    const c2 = 1 / (1 - beta2 ** t);
    for (let i = 0; i < g.length; i++) {
      const gi = g[i], m = this.#m[i], v = this.#v[i], p = this.#values[i];
      for (let j = 0; j < gi.length; j++) {
        const gj = gi[j] * scale;
        m[j] = beta1 * m[j] + (1 - beta1) * gj;
        v[j] = beta2 * v[j] + (1 - beta2) * gj * gj;
        p[j] -= lr * (m[j] * c1) / (Math.sqrt(v[j] * c2) + epsilon);
      }
      const fresh = tf.tensor(p, this.#vars[i].shape);
      this.#vars[i].assign(fresh);
      fresh.dispose();
    }
    return { gradNorm, lr };
  }
}
