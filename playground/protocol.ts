/**
 * The messages between the page (main.ts) and a model's worker (worker.ts). One worker trains one model; the page
 * only draws what workers send, so its thread never runs a training step.
 */
import type { ExperimentConfig } from "../lib/training/config.ts";
import type { BackendInfo } from "../lib/platform/backend.ts";
import type { RunResult } from "../lib/store/results.ts";

/** Page to worker. */
export type ToWorker =
  | {
    readonly type: "init";
    readonly config: ExperimentConfig;
    /**
     * tfjs-backend-wasm's SIMD binary as the page holds it inlined (base64; no network). The worker decodes it, so
     * the page's thread does not.
     */
    readonly wasmBase64: string;
    /** Steps between live probes and accuracy at L, 2L, 3L (a multiple of the check interval is exact). */
    readonly probeEvery: number;
    readonly sample: readonly number[];
  }
  /** Train on; pause at the next held-out check; train to the next check and pause there. */
  | { readonly type: "play" }
  | { readonly type: "pause" }
  | { readonly type: "step" }
  /** Probe this sequence now (and at every refresh from now on). */
  | { readonly type: "sample"; readonly tokens: readonly number[] };

/** One layer as the live probe shows it. */
export type ProbeLayer =
  | {
    readonly kind: "attention";
    readonly heads: number;
    /** [h, l, l]: row t is the softmax weights query t puts on keys 0..t. */
    readonly weights: Float32Array;
  }
  | {
    readonly kind: "mamba";
    readonly e: number;
    /** [l, e]: the selection step size delta per position and channel. */
    readonly delta: Float32Array;
    /**
     * [e, l]: what is left at position t of the value's write (position `from`) in each channel's slowest state
     * (lib/probes/mamba_probe.ts `retention`); NaN before `from`. Null when the sequence has no first query.
     */
    readonly retention: Float32Array | null;
    readonly from: number | null;
  };

/** The live probe of one sequence. */
export interface ProbeView {
  readonly step: number;
  readonly tokens: readonly number[];
  /** The model's answer: the argmax of its logits at the last position, and its softmax probability. */
  readonly answer: number;
  readonly probability: number;
  readonly layers: readonly ProbeLayer[];
}

/** Accuracy at one length on the first `samples` sequences of the final evaluation's stream for that length. */
export interface LivePoint {
  readonly length: number;
  readonly accuracy: number;
  readonly samples: number;
}

/** Worker to page. */
export type FromWorker =
  | { readonly type: "ready"; readonly key: string; readonly paramCount: number; readonly backend: BackendInfo }
  | {
    readonly type: "check";
    readonly step: number;
    readonly loss: number;
    /** On the run's held-out test batch at L (the history a run file keeps). */
    readonly accuracy: number;
    /** Steps per second since the previous check, pauses and live probes left out. */
    readonly stepsPerSecond: number;
  }
  | { readonly type: "lengths"; readonly step: number; readonly points: readonly LivePoint[] }
  | { readonly type: "probe"; readonly probe: ProbeView }
  | { readonly type: "state"; readonly state: "running" | "paused" | "evaluating"; readonly step: number }
  | { readonly type: "done"; readonly result: RunResult }
  | { readonly type: "error"; readonly message: string };
