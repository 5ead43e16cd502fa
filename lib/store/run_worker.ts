/**
 * One run of a sweep, in its own process: reads `{config, variant, file}` as JSON on stdin, trains and
 * evaluates, saves the weights beside `file` (`<key>.safetensors`, before the run file, so a finished run
 * always has its checkpoint), writes the RunResult to `file` atomically, and reports progress as JSON lines
 * on stdout. While training it keeps a snapshot of the run in progress (`<key>.partial.safetensors`, at a check
 * once a minute; lib/training/train_snapshot.ts) and continues from one it finds, so a run stopped part-way
 * resumes where it was; the snapshot is removed once the run file is written.
 * Started by lib/store/run_process.ts; not meant to be run by hand.
 */
import { runExperiment } from "./experiment.ts";
import { isWriteFailure, writeJsonAtomic } from "../platform/atomic_write.ts";
import type { ExperimentConfig } from "../training/config.ts";
import { removeSnapshot, SNAPSHOT_SECONDS, snapshotPath } from "../training/train_snapshot.ts";

interface WorkerInput {
  readonly config: ExperimentConfig;
  readonly variant: string;
  readonly file: string;
  /** Seconds between snapshots (default SNAPSHOT_SECONDS). */
  readonly snapshotSeconds?: number;
}

async function main(): Promise<void> {
  const input: WorkerInput = JSON.parse(await new Response(Deno.stdin.readable).text());
  const out = (msg: unknown): void => console.log(JSON.stringify(msg));
  const result = await runExperiment(input.config, {
    variant: input.variant,
    onProgress: (p) => out({ type: "progress", ...p }),
    checkpoint: input.file.replace(/\.json$/, "") + ".safetensors",
    snapshot: { path: snapshotPath(input.file), everySeconds: input.snapshotSeconds ?? SNAPSHOT_SECONDS },
    onNote: (text) => out({ type: "note", text }),
  });
  await writeJsonAtomic(input.file, result);
  await removeSnapshot(snapshotPath(input.file));
  out({ type: "done" });
}

/** Exit code of a worker that could not write its files (disk full, read-only, no permission). */
export const CANNOT_WRITE_EXIT = 3;

if (import.meta.main) {
  // A SIGTERM from the sweep ends the process; nothing is half-written because writes are atomic.
  Deno.addSignalListener("SIGTERM", () => Deno.exit(143));
  try {
    await main();
  } catch (e) {
    // One line for the sweep to show; the trace goes to a file, not to the user's terminal.
    const line = String((e as Error).message ?? e).split("\n")[0];
    const trace = `${Deno.env.get("TMPDIR") ?? "/tmp"}/recall-lab-worker-${Deno.pid}.txt`;
    await Deno.writeTextFile(trace, String((e as Error).stack ?? e)).catch(() => {});
    const write = isWriteFailure(e);
    console.log(JSON.stringify({ type: "failed", text: line, write, trace }));
    Deno.exit(write ? CANNOT_WRITE_EXIT : 1);
  }
}
