/**
 * One run of a sweep, in its own process: reads `{config, variant, file}` as JSON on stdin, trains and
 * evaluates, saves the weights beside `file` (`<key>.safetensors`, before the run file, so a finished run
 * always has its checkpoint), writes the RunResult to `file` atomically, and reports progress as JSON lines
 * on stdout.
 * Started by lib/runs/sweep.ts; not meant to be run by hand.
 */
import { runExperiment } from "../training/experiment.ts";
import { writeJsonAtomic } from "./atomic_write.ts";
import type { ExperimentConfig } from "../training/config.ts";

interface WorkerInput {
  readonly config: ExperimentConfig;
  readonly variant: string;
  readonly file: string;
}

async function main(): Promise<void> {
  const input: WorkerInput = JSON.parse(await new Response(Deno.stdin.readable).text());
  const out = (msg: unknown): void => console.log(JSON.stringify(msg));
  const result = await runExperiment(input.config, {
    variant: input.variant,
    onProgress: (p) => out({ type: "progress", ...p }),
    checkpoint: input.file.replace(/\.json$/, "") + ".safetensors",
  });
  await writeJsonAtomic(input.file, result);
  out({ type: "done" });
}

if (import.meta.main) {
  // A SIGTERM from the sweep ends the process; nothing is half-written because writes are atomic.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(143));
  await main();
}
