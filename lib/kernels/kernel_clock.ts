/**
 * An opt-in stopwatch around the fused kernels' work (the mixers' forward and backward over typed arrays), so a
 * step's time can be split into "in the kernels" and "around them" (bench/step_breakdown.ts). Off by default:
 * then `clocked` is one branch and a call.
 */

/** The clock's state: whether it runs, and milliseconds accumulated per kind since the last reset. */
export const kernelClock: { enabled: boolean; forwardMs: number; backwardMs: number } = {
  enabled: false,
  forwardMs: 0,
  backwardMs: 0,
};

/** Run `f`, adding its wall time to the clock's `kind` total when the clock is enabled. */
export function clocked<T>(kind: "forward" | "backward", f: () => T): T {
  if (!kernelClock.enabled) return f();
  const t0 = performance.now();
  try {
    return f();
  } finally {
    if (kind === "forward") kernelClock.forwardMs += performance.now() - t0;
    else kernelClock.backwardMs += performance.now() - t0;
  }
}
