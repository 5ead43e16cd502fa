/**
 * All probes of one trained model, computed from its weights without training (issue 11): accuracy by the
 * distance between the two queries, by query token and by the first query's position at short lengths (the
 * model's own fast forward); attention statistics per layer and head (attention_probe.ts) and Mamba step sizes
 * and retention (mamba_probe.ts) from the traced forward (probe_forward.ts), at L, 2L and 3L.
 *
 * Every sequence comes from a seeded stream named "probe:..." of the run's seed, so the same checkpoint and
 * options always give the same numbers.
 *
 * Glossary: b batch, l length, L training length, e Mamba inner dim, h heads, i first query position,
 * distance = (l-1) - i, the gap between the two queries.
 */
import * as tf from "@tensorflow/tfjs";
import { type RunModel, type RunSettings, settingsOf } from "../training/config.ts";
import { sequencesPerForward } from "../training/train.ts";
import { substream } from "../task/random.ts";
import type { ArBatch } from "../task/ar_data.ts";
import { distanceGrid, fillersOutsideQueries, placedBatch } from "./probe_data.ts";
import { traceForward } from "./probe_forward.ts";
import { AttentionAccumulator, type AttentionStats } from "./attention_probe.ts";
import { MambaAccumulator, type MambaStats } from "./mamba_probe.ts";
import { modelTensors } from "../models/model_weights.ts";

/** 2: `wrongOffsets`; 3: `outsideQueries`. */
export const PROBE_SCHEMA = 3;

/** Offsets after the first query the wrong-answer probe looks at: 1 .. WRONG_OFFSETS. */
export const WRONG_OFFSETS = 20;

/** How many sequences each probe uses. */
export interface ProbeOptions {
  /** Sequences per bucket (distance, query token, first-query position) for the accuracy probes. */
  readonly accuracySamples: number;
  /** Distances per length in the distance grid. */
  readonly distances: number;
  /** Sequences per length traced for the attention and Mamba statistics. */
  readonly traceSamples: number;
  /** Offsets -W..W around the first query in the aligned patterns. */
  readonly window: number;
  /** Short lengths tau+2 .. tau+1+shortLengths for the first-query-position probe. */
  readonly shortLengths: number;
}

export const DEFAULT_PROBE_OPTIONS: ProbeOptions = {
  accuracySamples: 32,
  distances: 24,
  traceSamples: 96,
  window: 8,
  shortLengths: 12,
};

export interface AccuracyCurve {
  readonly length: number;
  /** Bucket values (distances or query tokens), ascending. */
  readonly at: number[];
  readonly accuracy: number[];
  readonly samples: number;
}

export interface ShortLengthAccuracy {
  readonly lengths: number[];
  /** First query positions 0 .. max. */
  readonly positions: number[];
  /** [lengths][positions]: accuracy, null where the position does not fit the length. */
  readonly accuracy: (number | null)[][];
  readonly samples: number;
}

export interface AttentionLayerProbe {
  readonly layer: number;
  readonly heads: number;
  readonly byLength: AttentionStats[];
}

export interface MambaLayerProbe {
  readonly layer: number;
  readonly e: number;
  readonly byLength: MambaStats[];
  /** One sequence at length L: its tokens, first query, and delta per channel [e][l]. */
  readonly example: { length: number; firstQuery: number; tokens: number[]; delta: number[][] };
}

/**
 * Where wrong answers come from: for each offset o = 1..20, the share of the wrong answers at length L that equal
 * the token o positions after the first query (a model that found the query but misjudged the delay answers with
 * a nearby token; one that did not find it answers at about chance, 1/(K-1) per offset). `wrong` is how many of
 * the `samples` sequences were answered wrongly (the shares are over those).
 */
export interface WrongOffsets {
  readonly length: number;
  readonly offsets: number[];
  readonly share: number[];
  readonly wrong: number;
  readonly samples: number;
}

/**
 * Whether the other candidate queries are what a model trips on: accuracy at L, 2L and 3L on the same rows (query,
 * value, first query position) with training's fillers (`usual`: any token but q, so the other M - 1 candidate
 * queries appear about (M - 1)/(K - 1) of the time) and with every filler from outside the query set (`outside`).
 */
export interface OutsideQueries {
  readonly lengths: number[];
  readonly usual: number[];
  readonly outside: number[];
  readonly samples: number;
}

/** What `<key>.probe.json` holds. */
export interface ProbeResult {
  readonly schema: typeof PROBE_SCHEMA;
  readonly key: string;
  readonly config: RunSettings;
  readonly options: ProbeOptions;
  /** L, 2L, 3L. */
  readonly lengths: number[];
  readonly accuracy: {
    readonly byDistance: AccuracyCurve[];
    readonly byQuery: AccuracyCurve[];
    readonly shortLengths: ShortLengthAccuracy;
  };
  /** Null when L is too short to place 20 tokens after the first query. */
  readonly wrongOffsets: WrongOffsets | null;
  /** Null when M = 1 (no other candidate query exists) or M = K (no token is outside the query set). */
  readonly outsideQueries: OutsideQueries | null;
  readonly attention: AttentionLayerProbe[];
  readonly mamba: MambaLayerProbe[];
}

/** [b] 1 where the model's argmax at the last position is the label. */
export function correctness(model: RunModel, batch: ArBatch): Uint8Array {
  const predicted = predictions(model, batch);
  return Uint8Array.from(predicted, (p, r) => (p === batch.labels[r] ? 1 : 0));
}

/** [b] the model's argmax at the last position (its answer) for every row of `batch`. */
export function predictions(model: RunModel, batch: ArBatch): Int32Array {
  const { K, d } = model.config;
  const l = batch.length, chunk = sequencesPerForward(l, d);
  const out = new Int32Array(batch.batch);
  for (let start = 0; start < batch.batch; start += chunk) {
    const b = Math.min(chunk, batch.batch - start);
    const logits = tf.tidy(() =>
      model.logits(batch.tokens.subarray(start * l, (start + b) * l), b, l).dataSync() as Float32Array
    );
    for (let r = 0; r < b; r++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (logits[r * K + k] > logits[r * K + best]) best = k;
      out[start + r] = best;
    }
  }
  return out;
}

function repeatEach(values: readonly number[], times: number): Int32Array {
  return Int32Array.from(values.flatMap((v) => Array<number>(times).fill(v)));
}

/** Mean of `hits` over consecutive groups of `size`. */
function groupMeans(hits: Uint8Array, size: number): number[] {
  const out: number[] = [];
  for (let g = 0; g < hits.length / size; g++) {
    let s = 0;
    for (let k = 0; k < size; k++) s += hits[g * size + k];
    out.push(s / size);
  }
  return out;
}

function accuracyByDistance(model: RunModel, length: number, o: ProbeOptions): AccuracyCurve {
  const c = model.config;
  const grid = distanceGrid(length, c.tau, o.distances);
  const place = { firstQuery: repeatEach(grid.map((dist) => length - 1 - dist), o.accuracySamples) };
  const batch = placedBatch(substream(c.seed, `probe:distance:length=${length}`), c, length, place);
  return {
    length,
    at: grid,
    accuracy: groupMeans(correctness(model, batch), o.accuracySamples),
    samples: o.accuracySamples,
  };
}

function accuracyByQuery(model: RunModel, length: number, o: ProbeOptions): AccuracyCurve {
  const c = model.config;
  const rng = substream(c.seed, `probe:query:length=${length}`);
  const queries = Array.from({ length: c.M }, (_, q) => q);
  const query = repeatEach(queries, o.accuracySamples);
  const firstQuery = query.map(() => rng.int(length - c.tau - 1));
  const batch = placedBatch(rng, c, length, { firstQuery, query });
  return {
    length,
    at: queries,
    accuracy: groupMeans(correctness(model, batch), o.accuracySamples),
    samples: o.accuracySamples,
  };
}

function shortLengthAccuracy(model: RunModel, o: ProbeOptions): ShortLengthAccuracy {
  const c = model.config;
  const lengths = Array.from({ length: o.shortLengths }, (_, k) => c.tau + 2 + k).filter((l) => l <= c.maxLen);
  const maxPos = lengths[lengths.length - 1] - 2 - c.tau;
  const positions = Array.from({ length: maxPos + 1 }, (_, i) => i);
  const accuracy = lengths.map((length) => {
    const fits = positions.filter((i) => i <= length - 2 - c.tau);
    const batch = placedBatch(substream(c.seed, `probe:short:length=${length}`), c, length, {
      firstQuery: repeatEach(fits, o.accuracySamples),
    });
    const means = groupMeans(correctness(model, batch), o.accuracySamples);
    return positions.map((i) => (i < fits.length ? means[i] : null));
  });
  return { lengths, positions, accuracy, samples: o.accuracySamples };
}

/** Sequences per length the outside-the-query-set probe scores (each twice: usual and outside fillers). */
const OUTSIDE_SAMPLES = 512;

/** See OutsideQueries. */
export function outsideQueries(
  model: RunModel,
  lengths: readonly number[],
  samples: number = OUTSIDE_SAMPLES,
): OutsideQueries | null {
  const c = model.config;
  if (c.M === 1 || c.M >= c.K) return null;
  const usual: number[] = [], outside: number[] = [];
  for (const length of lengths) {
    const rng = substream(c.seed, `probe:outside:length=${length}`);
    const firstQuery = Int32Array.from({ length: samples }, () => rng.int(length - c.tau - 1));
    const batch = placedBatch(rng, c, length, { firstQuery });
    const score = (b: ArBatch) => correctness(model, b).reduce((a, h) => a + h, 0) / samples;
    usual.push(score(batch));
    outside.push(score(fillersOutsideQueries(rng, c, batch)));
  }
  return { lengths: [...lengths], usual, outside, samples };
}

/** Sequences the wrong-answer probe scores at length L. */
const WRONG_SAMPLES = 1024;

/** The wrong-answer offsets at length L (see WrongOffsets), or null when L leaves no room for 20 offsets. */
export function wrongOffsets(model: RunModel, samples: number = WRONG_SAMPLES): WrongOffsets | null {
  const c = model.config, length = c.L;
  const last = length - 2 - Math.max(c.tau, WRONG_OFFSETS); // the first query leaves 20 tokens before the last
  if (last < 0) return null;
  const rng = substream(c.seed, "probe:wrong");
  const firstQuery = Int32Array.from({ length: samples }, () => rng.int(last + 1));
  const batch = placedBatch(rng, c, length, { firstQuery });
  const predicted = predictions(model, batch);
  const offsets = Array.from({ length: WRONG_OFFSETS }, (_, k) => k + 1);
  const hits = offsets.map(() => 0);
  let wrong = 0;
  for (let r = 0; r < samples; r++) {
    if (predicted[r] === batch.labels[r]) continue;
    wrong++;
    offsets.forEach((o, k) => {
      if (batch.tokens[r * length + firstQuery[r] + o] === predicted[r]) hits[k]++;
    });
  }
  return { length, offsets, share: hits.map((h) => (wrong === 0 ? 0 : h / wrong)), wrong, samples };
}

/** Sequences traced at one length: the distance grid, each distance repeated to about `traceSamples` rows. */
function traceBatch(model: RunModel, length: number, o: ProbeOptions): ArBatch {
  const c = model.config;
  const grid = distanceGrid(length, c.tau, o.distances);
  const times = Math.max(1, Math.round(o.traceSamples / grid.length));
  const place = { firstQuery: repeatEach(grid.map((dist) => length - 1 - dist), times) };
  return placedBatch(substream(c.seed, `probe:trace:length=${length}`), c, length, place);
}

/** Sequences per traced forward: keeps the [b, h, l, l] weights near 2M floats. */
function traceChunk(model: RunModel, length: number): number {
  const h = Math.max(1, model.config.heads);
  return Math.max(1, Math.min(64, Math.floor(2_000_000 / (h * length * length))));
}

/** A_log [e, n] of Mamba layer `layer`. */
function aLogOf(model: RunModel, layer: number): Float32Array {
  const w = modelTensors(model.config, model.params).layers[layer];
  if (w.kind !== "mamba") throw new Error(`probe: layer ${layer} is not a Mamba layer`);
  return w.mixer.aLog.dataSync() as Float32Array;
}

/** Every probe of `model` (trained weights loaded); `key` names the run. Leaves no tensor behind. */
export function probeModel(model: RunModel, key: string, options: ProbeOptions = DEFAULT_PROBE_OPTIONS): ProbeResult {
  const c = model.config;
  const lengths = [...new Set([c.L, 2 * c.L, 3 * c.L])].filter((l) => l <= c.maxLen && l >= c.tau + 2);
  const kinds = c.mixers;
  const attention: AttentionLayerProbe[] = [];
  const mambaStats: MambaStats[][] = kinds.map(() => []);
  kinds.forEach((k, layer) => {
    if (k === "attention") attention.push({ layer, heads: c.heads, byLength: [] });
  });
  for (const length of lengths) {
    const batch = traceBatch(model, length, options);
    const att = new Map<number, AttentionAccumulator>();
    const mam = new Map<number, MambaAccumulator>();
    kinds.forEach((k, layer) => {
      if (k === "attention") att.set(layer, new AttentionAccumulator(c.heads, length, c.tau, options.window));
      else mam.set(layer, new MambaAccumulator(length, c.mambaInner, aLogOf(model, layer), c.tau, options.window));
    });
    const chunk = traceChunk(model, length);
    for (let start = 0; start < batch.batch; start += chunk) {
      const b = Math.min(chunk, batch.batch - start);
      const trace = traceForward(model, batch.tokens.subarray(start * length, (start + b) * length), b, length);
      const firstQuery = batch.queryIndex.subarray(start, start + b);
      trace.layers.forEach((t, layer) => {
        if (t.kind === "attention") att.get(layer)!.add(t.weights, firstQuery);
        else mam.get(layer)!.add(t.delta, firstQuery);
      });
    }
    for (const a of attention) a.byLength.push(att.get(a.layer)!.finish());
    for (const [layer, m] of mam) mambaStats[layer].push(m.finish());
  }
  const mamba: MambaLayerProbe[] = [];
  const mambaLayers = kinds.flatMap((k, layer) => (k === "mamba" ? [layer] : []));
  if (mambaLayers.length > 0) {
    const L = c.L, firstQuery = Math.floor((L - 2 - c.tau) / 3);
    const example = placedBatch(substream(c.seed, "probe:example"), c, L, { firstQuery: Int32Array.of(firstQuery) });
    const trace = traceForward(model, example.tokens, 1, L);
    for (const layer of mambaLayers) {
      const t = trace.layers[layer];
      if (t.kind !== "mamba") continue;
      const delta = Array.from({ length: t.e }, (_, ch) => Array.from({ length: L }, (_, p) => t.delta[p * t.e + ch]));
      mamba.push({
        layer,
        e: t.e,
        byLength: mambaStats[layer],
        example: { length: L, firstQuery, tokens: Array.from(example.tokens), delta },
      });
    }
  }
  return {
    schema: PROBE_SCHEMA,
    key,
    config: settingsOf(c),
    options,
    lengths,
    accuracy: {
      byDistance: lengths.map((l) => accuracyByDistance(model, l, options)),
      byQuery: lengths.map((l) => accuracyByQuery(model, l, options)),
      shortLengths: shortLengthAccuracy(model, options),
    },
    wrongOffsets: wrongOffsets(model),
    outsideQueries: outsideQueries(model, lengths),
    attention,
    mamba,
  };
}
