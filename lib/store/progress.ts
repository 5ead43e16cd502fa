/**
 * What a sweep reports while it runs, as an interface: the sweep is handed a reporter (the CLI's live board,
 * a silent one in tests) and never imports the CLI.
 */

/** The state of one training run, as its worker last reported it. */
export interface RunProgress {
  readonly label: string;
  readonly index: number;
  readonly total: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly stepsPerSecond: number;
}

/** Where a sweep sends its lines and run progress. */
export interface SweepReporter {
  /** An ordinary line (skipped runs, finished runs, warnings). */
  log(line: string): void;
  /** A running run's latest progress. */
  update(progress: RunProgress): void;
  /** The run with this index (1-based) is no longer running. */
  finish(index: number): void;
  /** The sweep is over. */
  close(): void;
}

/** A reporter that prints nothing. */
export const SILENT_REPORTER: SweepReporter = { log() {}, update() {}, finish() {}, close() {} };
