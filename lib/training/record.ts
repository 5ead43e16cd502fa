/**
 * What training returns, as plain data: the held-out checks of a run (its history), how it ended, and its accuracy
 * by length. The run store (lib/store/results.ts) wraps these in a versioned run file.
 */

/** One check on the held-out test batch at length L. */
export interface HistoryPoint {
  readonly step: number;
  /** Training loss at this step (cross-entropy on the step's minibatch). */
  readonly loss: number;
  /** Accuracy on the fixed held-out test batch at the training length L. */
  readonly accuracy: number;
}

export interface LengthAccuracy {
  readonly length: number;
  readonly accuracy: number;
  /** Test sequences scored at this length (`headlineSamples` at L, 2L and 3L, `evalSamples` elsewhere). */
  readonly samples: number;
}

/**
 * converged: reached `target` on `patience` consecutive checks (at revision 3 and later training went on to the
 * budget; before, it stopped there); cap: did not; diverged: the loss became NaN or infinite (the run stopped
 * there and was not evaluated). Unchanged since schema 1; `RunVerdict` says more.
 */
export type RunStatus = "converged" | "cap" | "diverged";

/**
 * How training ended, in the words reports use: "converged" (as status); "plateaued": not converged within the
 * steps run, no longer improving (lib/training/plateau.ts); "still improving": stopped at the largest cap
 * while still improving (revision 2: its largest cap, `extendUpTo` x the base cap; revision 3: its budget);
 * "diverged" (as status).
 */
export type RunVerdict = "converged" | "plateaued" | "still improving" | "diverged";

export const RUN_VERDICTS: readonly RunVerdict[] = ["converged", "plateaued", "still improving", "diverged"];
