/**
 * Reusing finished runs across problems: a run is identified by the hash of its full config, so a run that
 * another problem already finished (Problem 2's d=8 Mamba for Problem 3) is the same run and need not be
 * trained again. Copies the run files into the target's runs folder, where the sweep then finds them.
 */
import { join } from "node:path";
import { resolve } from "../training/config.ts";
import { runKey } from "../training/experiment.ts";
import { readFinishedRun, type SweepJob } from "./sweep.ts";
import { writeJsonAtomic } from "./atomic_write.ts";

/** Copy finished runs of `jobs` from `fromDir/runs` to `toDir/runs` where the target has none; returns how many. */
export async function reuseFinishedRuns(jobs: readonly SweepJob[], fromDir: string, toDir: string): Promise<number> {
  let copied = 0;
  for (const job of jobs) {
    const key = await runKey(resolve(job.config));
    const target = join(toDir, "runs", `${key}.json`);
    if (await readFinishedRun(target, key)) continue;
    const source = await readFinishedRun(join(fromDir, "runs", `${key}.json`), key);
    if (!source) continue;
    await writeJsonAtomic(target, { ...source, variant: job.variant });
    copied++;
  }
  return copied;
}
