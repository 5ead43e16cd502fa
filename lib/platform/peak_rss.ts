/**
 * Peak resident memory of this process in MB: Linux's VmHWM (the high-water mark), elsewhere the current RSS
 * (a lower bound). The budget is per training process, so sweeps record it per run.
 */
export function peakRssMb(): number {
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux: fall through to the current RSS
  }
  return Deno.memoryUsage().rss / 2 ** 20;
}
