/**
 * The training-semantics revision: part of every run's key (lib/store/run_key.ts), next to the run's settings.
 *
 * Bump it by hand, in the same commit, when a change to the code makes the same settings give a different
 * result: the data draws (lib/task/), initialisation or the model's math (lib/models/), the loss, Adam, the
 * schedule, clipping, the stopping rule or the held-out checks (lib/training/), or how evaluation samples and
 * scores. Refactors, speed-ups that are bit-for-bit, report code and new derived values do not bump it. After a
 * bump every committed run is pending again: rerun the problems (or keep the old revision if the change is
 * opt-in behind a new setting).
 *
 * 1: the runs of 2026-11-28 .. 2026-11-30 (issues 2-5).
 * 2: budgets that do not manufacture negatives (issue 10.3): a run still improving at its cap is continued up to
 *    `extendUpTo` x its cap, and L, 2L and 3L are scored on `headlineSamples` sequences (issue 10.6). Both are new
 *    settings, but their defaults (4, 2048) change what the same user command trains and measures.
 * 3: fixed budgets (issue on the protocol): every run trains its whole `steps` budget; reaching the target only
 *    records the convergence step, and nothing extends a run (the `extendUpTo` setting is gone). Every run is also
 *    evaluated at `farLengths` x L (default 4L, 8L, 16L), and a learned position table covers the longest.
 */
export const TRAINING_REVISION = 3;
