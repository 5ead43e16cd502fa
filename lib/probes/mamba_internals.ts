/**
 * Probe-only views into a Mamba core (the math of lib/models/mamba_core.ts `mambaCoreReference`, in plain tf
 * ops): the step size delta = softplus(dtLow @ dtProj + dtBias) the block computes from its input, and a
 * sequential scan that returns every state h[t] and accepts a forced delta (hand-built tests pin what the
 * probes say about memory on it). The fast core never exposes either.
 *
 * Memory: a write into state (c, s) at position p is multiplied by exp(delta[t, c] A[c, s]) at every later
 * step t, so what is left of it at position T is exp(A[c, s] sum_{t=p+1..T} delta[t, c]): `retention`. With
 * delta = 0 the state is kept exactly, with large delta it is forgotten in one step.
 *
 * Glossary: b batch, l length, e inner dim, n state dim, r dt rank, w conv width, c channel, s state index.
 */
import * as tf from "@tensorflow/tfjs";
import type { MambaCoreWeights } from "../models/mamba_core.ts";

function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** u = silu(causal conv(xIn)) [b, l, e] and xdbl = u @ xProj [b*l, r + 2n]. */
function convAndProject(xIn: tf.Tensor3D, wt: MambaCoreWeights): { u: tf.Tensor3D; xdbl: tf.Tensor2D } {
  const [b, l, e] = xIn.shape;
  const w = wt.convW.shape[1];
  const padded = tf.pad(xIn, [[0, 0], [w - 1, 0], [0, 0]]); // [b, l + w - 1, e]
  let xc: tf.Tensor = wt.convB;
  for (let k = 0; k < w; k++) {
    const tap = tf.reshape(tf.slice(wt.convW, [0, k], [e, 1]), [e]); // [e]
    xc = tf.add(xc, tf.mul(tf.slice(padded, [0, k, 0], [b, l, e]), tap)); // [b, l, e]
  }
  const u = silu(xc) as tf.Tensor3D; // [b, l, e]
  return { u, xdbl: tf.matMul(tf.reshape(u, [b * l, e]), wt.xProj) }; // xdbl [b*l, R]
}

/** delta [b, l, e] of the core for input xIn [b, l, e] (the x branch after in_proj). Call inside tf.tidy. */
export function mambaDelta(xIn: tf.Tensor3D, wt: MambaCoreWeights): tf.Tensor3D {
  const [b, l, e] = xIn.shape;
  const r = wt.dtProj.shape[0];
  const { xdbl } = convAndProject(xIn, wt);
  const dtLow = tf.slice(xdbl, [0, 0], [b * l, r]); // [b*l, r]
  return tf.reshape(tf.softplus(tf.add(tf.matMul(dtLow, wt.dtProj), wt.dtBias)), [b, l, e]) as tf.Tensor3D;
}

/** The core's output and every state, from the reference math. */
export interface ScanStates {
  readonly out: tf.Tensor3D; // [b, l, e]
  readonly states: tf.Tensor4D; // [b, l, e, n]: h[t] after step t
  readonly delta: tf.Tensor3D; // [b, l, e]: the one used (computed or forced)
}

/**
 * The core with a sequential scan that keeps every state; `delta` [b, l, e], when given, replaces the computed
 * step sizes (to test what delta = 0 or a large delta does). Call inside tf.tidy. For short tests only: it
 * keeps b l e n floats.
 */
export function mambaScanStates(
  xIn: tf.Tensor3D,
  z: tf.Tensor3D,
  wt: MambaCoreWeights,
  delta?: tf.Tensor3D,
): ScanStates {
  const [b, l, e] = xIn.shape;
  const [, n] = wt.aLog.shape;
  const r = wt.dtProj.shape[0];
  const { u, xdbl } = convAndProject(xIn, wt);
  const bm = tf.reshape(tf.slice(xdbl, [0, r], [b * l, n]), [b, l, n]); // [b, l, n]
  const cm = tf.reshape(tf.slice(xdbl, [0, r + n], [b * l, n]), [b, l, n]); // [b, l, n]
  const dl = delta ?? mambaDelta(xIn, wt); // [b, l, e]
  const a = tf.neg(tf.exp(wt.aLog)); // [e, n]
  let h: tf.Tensor = tf.zeros([b, e, n]);
  const hs: tf.Tensor[] = [];
  const ys: tf.Tensor[] = [];
  for (let t = 0; t < l; t++) {
    const dt = tf.reshape(tf.slice(dl, [0, t, 0], [b, 1, e]), [b, e, 1]); // [b, e, 1]
    const ut = tf.reshape(tf.slice(u, [0, t, 0], [b, 1, e]), [b, e, 1]); // [b, e, 1]
    const bt = tf.slice(bm, [0, t, 0], [b, 1, n]); // [b, 1, n]
    const ct = tf.slice(cm, [0, t, 0], [b, 1, n]); // [b, 1, n]
    h = tf.add(tf.mul(tf.exp(tf.mul(dt, a)), h), tf.mul(tf.mul(dt, ut), bt)); // [b, e, n]
    hs.push(h);
    ys.push(tf.sum(tf.mul(h, ct), -1)); // [b, e]
  }
  const y = tf.add(tf.stack(ys, 1), tf.mul(u, wt.D)); // [b, l, e]
  return {
    out: tf.mul(y, silu(z)) as tf.Tensor3D,
    states: tf.stack(hs, 1) as tf.Tensor4D,
    delta: dl,
  };
}

/**
 * What is left at position `to` of a write made at position `from` into the slowest state of each channel
 * (the s with the smallest |A[c, s]|): exp(A_slow[c] sum_{t=from+1..to} delta[t, c]), in [0, 1].
 * `delta` is one sequence's [l, e] row-major; `aLog` is [e, n]. Returns [e].
 */
export function retention(
  delta: Float32Array,
  l: number,
  aLog: Float32Array,
  e: number,
  n: number,
  from: number,
  to: number,
): Float64Array {
  if (delta.length !== l * e || aLog.length !== e * n) throw new Error("retention: delta must be [l, e], aLog [e, n]");
  if (!(0 <= from && from <= to && to < l)) throw new Error(`retention: need 0 <= from <= to < l, got ${from}, ${to}`);
  const out = new Float64Array(e);
  for (let c = 0; c < e; c++) {
    let minLog = Infinity;
    for (let s = 0; s < n; s++) minLog = Math.min(minLog, aLog[c * n + s]);
    let sum = 0;
    for (let t = from + 1; t <= to; t++) sum += delta[t * e + c];
    out[c] = Math.exp(-Math.exp(minLog) * sum);
  }
  return out;
}
