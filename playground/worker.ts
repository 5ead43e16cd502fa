/**
 * One model's worker: trains it exactly as `deno task run` does, with the scripts' own code: `resolve()`, the seeded
 * streams (`substream(seed, "init" | "train" | "test")`), `buildModel`, `train()` and `evaluateByLength`, on the same
 * tfjs WebAssembly backend and kernels, so the run has the scripts' key, batches and history. What it adds is
 * watching: at every held-out check it reports the loss and accuracy, every `probeEvery` steps the accuracy at L, 2L
 * and 3L and the live probes (attention patterns and Mamba's delta and retention, from the references' caches via
 * lib/probes), and it waits there while paused.
 *
 * Pausing uses train()'s own hook at checks (`resume.snapshot` with `everySeconds: 0`, awaited at every check), so
 * training itself is the scripts' unchanged; Step therefore runs to the next check (`checkEvery` steps, 50 by default).
 * Message handlers run only between checks (train() yields there), when the model is between steps.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { initBackend } from "../lib/platform/backend.ts";
import { RECALL_LAB_VERSION } from "../lib/platform/version.ts";
import { resolve, type ResolvedConfig, type RunModel, settingsOf } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { modelTensors } from "../lib/models/model_weights.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { batchAccuracy, sequencesPerForward, train, type TrainOutcome } from "../lib/training/train.ts";
import { evaluateByLength, headlineLengths } from "../lib/training/evaluate.ts";
import { TRAINING_REVISION } from "../lib/training/revision.ts";
import { runKey } from "../lib/store/run_key.ts";
import { type RunResult, SCHEMA_VERSION } from "../lib/store/results.ts";
import { traceForward } from "../lib/probes/probe_forward.ts";
import { retention } from "../lib/probes/mamba_probe.ts";
import { sequenceRoles } from "./sequence.ts";
import type { FromWorker, LivePoint, ProbeLayer, ProbeView, ToWorker } from "./protocol.ts";

/** The live accuracy at L, 2L and 3L scores this many sequences per length (the final evaluation: 2048). */
export const LIVE_SAMPLES = 256;

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  readonly navigator?: { readonly userAgent?: string };
}

const scope = globalThis as unknown as WorkerScope;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  scope.postMessage(message, transfer);
}

/** Where training may go: on, to the next check, or nowhere until told. */
type Mode = "running" | "step" | "paused";

let mode: Mode = "paused";
let wake: (() => void) | null = null;
let model: RunModel | null = null;
let sample: readonly number[] = [];
let currentStep = 0;

function setMode(next: Mode): void {
  mode = next;
  if (next !== "paused" && wake) {
    const w = wake;
    wake = null;
    w();
  }
}

/** At a check: wait while paused (a Step pauses here, after running to this check). */
async function gate(): Promise<void> {
  if (mode === "step") mode = "paused";
  if (mode !== "paused") return;
  post({ type: "state", state: "paused", step: currentStep });
  while (mode === "paused") await new Promise<void>((r) => (wake = r));
  post({ type: "state", state: "running", step: currentStep });
}

/** Accuracy at L, 2L and 3L on the first LIVE_SAMPLES sequences of the final evaluation's streams. */
function liveLengths(m: RunModel, c: ResolvedConfig): LivePoint[] {
  const spec = { K: c.K, M: c.M, tau: c.tau };
  return headlineLengths(c).map((length) => {
    const batch = arBatch(substream(c.seed, `eval:length=${length}`), spec, LIVE_SAMPLES, length);
    return { length, accuracy: batchAccuracy(m, batch, sequencesPerForward(length, c.d)), samples: LIVE_SAMPLES };
  });
}

/** The live probe of `tokens`: the traced forward on the references (lib/probes/probe_forward.ts). */
function probe(m: RunModel, tokens: readonly number[], step: number): { view: ProbeView; buffers: ArrayBuffer[] } {
  const c = m.config, l = tokens.length;
  const trace = traceForward(m, Int32Array.from(tokens), 1, l);
  const roles = sequenceRoles(tokens, c.tau);
  const weights = modelTensors(c, m.params);
  const buffers: ArrayBuffer[] = [];
  const layers = trace.layers.map((t, k): ProbeLayer => {
    if (t.kind === "attention") {
      const w = t.weights.slice();
      buffers.push(w.buffer);
      return { kind: "attention", heads: t.heads, weights: w };
    }
    const layer = weights.layers[k];
    if (layer.kind !== "mamba") throw new Error(`layer ${k} traced as Mamba is ${layer.kind}`);
    const aLog = layer.mixer.aLog.dataSync() as Float32Array; // [e, n]
    const e = t.e, n = aLog.length / e;
    const delta = t.delta.slice();
    buffers.push(delta.buffer);
    if (roles.firstQuery === null) return { kind: "mamba", e, delta, retention: null, from: null };
    const from = roles.firstQuery + c.tau;
    const kept = new Float32Array(e * l).fill(NaN); // [e, l]
    for (let to = from; to < l; to++) {
      const r = retention(t.delta, l, aLog, e, n, from, to);
      for (let ch = 0; ch < e; ch++) kept[ch * l + to] = r[ch];
    }
    buffers.push(kept.buffer);
    return { kind: "mamba", e, delta, retention: kept, from };
  });
  const logits = trace.logits;
  let answer = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k] > logits[answer]) answer = k;
  let total = 0;
  for (const z of logits) total += Math.exp(z - logits[answer]);
  return { view: { step, tokens: [...tokens], answer, probability: 1 / total, layers }, buffers };
}

function postProbe(step: number): void {
  if (model === null || sample.length === 0) return;
  const { view, buffers } = probe(model, sample, step);
  post({ type: "probe", probe: view }, buffers);
}

/** The run file: runExperiment's shape (lib/store/experiment.ts), with the browser in place of Deno's versions. */
function runResult(
  c: ResolvedConfig,
  key: string,
  m: RunModel,
  outcome: TrainOutcome,
  extra: { accuracyByLength: RunResult["accuracyByLength"]; evalSeconds: number; excludedSeconds: number },
  backend: RunResult["backend"],
  startedAt: string,
): RunResult {
  const agent = scope.navigator?.userAgent ?? "unknown";
  return {
    schema: SCHEMA_VERSION,
    key,
    revision: TRAINING_REVISION,
    variant: "playground",
    config: settingsOf(c),
    status: outcome.status,
    verdict: outcome.verdict,
    baseSteps: c.steps,
    convergedStep: outcome.convergedStep,
    divergedStep: outcome.divergedStep,
    stepsRun: outcome.stepsRun,
    paramCount: m.paramCount,
    history: outcome.history,
    accuracyByLength: extra.accuracyByLength,
    timing: {
      trainSeconds: outcome.seconds - extra.excludedSeconds,
      evalSeconds: extra.evalSeconds,
      medianStepMs: outcome.medianStepMs,
    },
    versions: { recallLab: RECALL_LAB_VERSION, deno: "none (browser)", v8: agent, tfjs: tf.version.tfjs },
    backend,
    startedAt,
  };
}

async function run(message: Extract<ToWorker, { type: "init" }>): Promise<void> {
  const binary = atob(message.wasmBase64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/wasm" }));
  // Only the SIMD binary is inlined (every current browser has WebAssembly SIMD); threads need cross-origin
  // isolation, which a page opened from disk does not have, so tfjs picks this one.
  setWasmPaths({
    "tfjs-backend-wasm.wasm": url,
    "tfjs-backend-wasm-simd.wasm": url,
    "tfjs-backend-wasm-threaded-simd.wasm": url,
  });
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  if (!simd) throw new Error("this browser has no WebAssembly SIMD, which the page's tfjs binary needs");
  const backend = await initBackend();
  const config = resolve(message.config);
  const key = await runKey(message.config);
  const m = buildModel(config, substream(config.seed, "init"));
  model = m;
  sample = message.sample;
  post({ type: "ready", key, paramCount: m.paramCount, backend });
  post({ type: "lengths", step: 0, points: liveLengths(m, config) });
  postProbe(0);
  while (mode === "paused") await new Promise<void>((r) => (wake = r)); // "step" starts too, to the first check
  post({ type: "state", state: "running", step: 0 });
  const startedAt = new Date().toISOString();
  const streams = { train: substream(config.seed, "train"), test: substream(config.seed, "test") };
  let excludedMs = 0, lastStep = 0, lastMark = performance.now(), nextProbe = message.probeEvery;
  const outcome = await train(m, config, streams, (p) => {
    currentStep = p.step;
    const seconds = (performance.now() - lastMark) / 1000;
    post({
      type: "check",
      step: p.step,
      loss: p.loss,
      accuracy: p.accuracy,
      stepsPerSecond: (p.step - lastStep) / seconds,
    });
    lastStep = p.step;
  }, {
    snapshot: {
      everySeconds: 0,
      save: async (s) => {
        const t0 = performance.now();
        if (s.step >= nextProbe || s.step === config.steps) {
          post({ type: "lengths", step: s.step, points: liveLengths(m, config) });
          postProbe(s.step);
          nextProbe = (Math.floor(s.step / message.probeEvery) + 1) * message.probeEvery;
        }
        if (s.step < config.steps) await gate();
        lastMark = performance.now();
        excludedMs += lastMark - t0; // the live probes and pauses: not the scripts' training time
      },
    },
  });
  post({ type: "state", state: "evaluating", step: outcome.stepsRun });
  const t0 = performance.now();
  const accuracyByLength = outcome.status === "diverged" ? [] : evaluateByLength(m, config);
  const evalSeconds = (performance.now() - t0) / 1000;
  const result = runResult(
    config,
    key,
    m,
    outcome,
    {
      accuracyByLength,
      evalSeconds,
      excludedSeconds: excludedMs / 1000,
    },
    backend,
    startedAt,
  );
  post({ type: "done", result });
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const message = e.data;
  try {
    if (message.type === "init") {
      run(message).catch((err) => post({ type: "error", message: String((err as Error).message ?? err) }));
    } else if (message.type === "play") setMode("running");
    else if (message.type === "pause") setMode("paused");
    else if (message.type === "step") setMode("step");
    else if (message.type === "sample") {
      sample = message.tokens;
      postProbe(currentStep);
    }
  } catch (err) {
    post({ type: "error", message: String((err as Error).message ?? err) });
  }
};
