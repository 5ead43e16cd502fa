/**
 * The sweep's side of one run's worker process (lib/store/run_worker.ts): start it, hand it the run, pass its
 * progress and notes to the reporter, and return how it ended. The run file it writes is read by the caller.
 */
import type { RunProgress, SweepReporter } from "./progress.ts";
import type { PlannedRun } from "./sweep_plan.ts";

const WORKER = new URL("./run_worker.ts", import.meta.url).pathname;

/** One line a worker prints on stdout (JSON). */
export interface WorkerMessage {
  readonly type: "progress" | "note" | "done" | "failed";
  /** For "failed": whether the worker could not write its files, and where its error's trace went. */
  readonly write?: boolean;
  readonly trace?: string;
  readonly text?: string;
  readonly step?: number;
  readonly steps?: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly stepsPerSecond?: number;
}

/** How a worker ended: its exit status and, when it said why it failed, that message. */
export interface WorkerOutcome {
  readonly status: Deno.CommandStatus;
  readonly failure: WorkerMessage | null;
}

/** What a worker needs besides its run. */
export interface WorkerSetup {
  /** Runs in the plan (for the progress line's "i/N"). */
  readonly total: number;
  readonly reporter: SweepReporter;
  /** Seconds between snapshots of the run in progress (undefined: the worker's default). */
  readonly snapshotSeconds?: number;
  /** The running workers: the worker is in it while it runs (a stop ends them). */
  readonly workers: Set<Deno.ChildProcess>;
}

/** Train `run` in a worker process of its own and wait for it to end. */
export async function trainInWorker(run: PlannedRun, setup: WorkerSetup): Promise<WorkerOutcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", WORKER],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  setup.workers.add(child);
  const input = {
    config: run.job.config,
    variant: run.job.variant,
    file: run.file,
    snapshotSeconds: setup.snapshotSeconds,
  };
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(input)));
  await writer.close();
  let failure: WorkerMessage | null = null;
  await readLines(child.stdout, (line) => {
    failure = onWorkerLine(line, run, setup) ?? failure;
  });
  const status = await child.status;
  setup.workers.delete(child);
  setup.reporter.finish(run.index + 1);
  return { status, failure };
}

/** Pass one line of a worker on (a line that is not JSON as it is); returns the message when it is a failure. */
function onWorkerLine(line: string, run: PlannedRun, setup: WorkerSetup): WorkerMessage | null {
  let msg: WorkerMessage;
  try {
    msg = JSON.parse(line);
  } catch {
    setup.reporter.log(line);
    return null;
  }
  if (msg.type === "failed") return msg;
  if (msg.type === "note") setup.reporter.log(`${run.tag}: ${msg.text}`);
  if (msg.type === "progress") setup.reporter.update(progressOf(msg, run, setup.total));
  return null;
}

function progressOf(msg: WorkerMessage, run: PlannedRun, total: number): RunProgress {
  return {
    label: run.label,
    index: run.index + 1,
    total,
    step: msg.step!,
    steps: msg.steps!,
    loss: msg.loss!,
    accuracy: msg.accuracy!,
    stepsPerSecond: msg.stepsPerSecond!,
  };
}

async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer) onLine(buffer);
}
