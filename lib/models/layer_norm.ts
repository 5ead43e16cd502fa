/**
 * LayerNorm over the last axis with a learned gain and bias (the pre-norm of every residual block and the
 * final norm before the readout), in two implementations with one signature:
 * - `layerNormReference`: plain tf ops (moments, rsqrt, ...) differentiated by tf autodiff (~10 ops forward and
 *   ~20 backward, each a dispatch of ~10-20 us on wasm: at d = 8 the three norms of a step cost ~1 ms);
 * - `layerNorm`: one `tf.customGrad` op whose forward and backward are WebAssembly SIMD kernels
 *   (layer_norm_kernels.ts; float32 arithmetic) when d is a multiple of 4, else plain loops over the tensors'
 *   values (row statistics accumulated in float64; also used by readout_loss.ts on its [b, d] rows), so
 *   values agree with the reference to float32 rounding but not bit for bit. The kernels replaced the loops
 *   for the [b l, d] norms: ~0.09 ms per call at d = 8 in JS, ~1 ms at d = 64.
 *
 * Math per row x [d]: mu = mean(x), var = mean((x - mu)^2), rstd = 1 / sqrt(var + eps), xhat = (x - mu) rstd,
 * y = xhat gain + bias. Backward from dy: dgain = sum_rows dy xhat, dbias = sum_rows dy, g = dy gain,
 * dx = rstd (g - mean(g) - xhat mean(g xhat)).
 *
 * Glossary: b batch, l length, d model dim, m rows (all leading dims flattened).
 */
import * as tf from "@tensorflow/tfjs";
import { floats, recordingGradients, tensorOf } from "../kernels/tensor_io.ts";
import { copyOut, reserve, view } from "../kernels/assembler.ts";
import { layerNormKernels } from "../kernels/layer_norm_kernels.ts";

export interface LayerNormWeights {
  readonly gain: tf.Tensor1D; // [d]
  readonly bias: tf.Tensor1D; // [d]
}

/** Plain tf: (x - mean) / sqrt(var + eps) * gain + bias, over the last axis of x [..., d]. */
export function layerNormReference(
  x: tf.Tensor,
  w: LayerNormWeights,
  eps = 1e-5,
): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
  return tf.add(
    tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w.gain),
    w.bias,
  );
}

/** What a forward keeps for its backward. */
export interface LayerNormSaved {
  readonly xhat: Float32Array; // [m, d]
  readonly rstd: Float32Array; // [m]
}

/**
 * The forward over rows of x [m, d] (row-major): y [m, d], and with `keep` the normalised rows and 1 / std for
 * the backward. Plain arrays in and out (used by the fused ops here and in readout_loss.ts).
 */
export function layerNormRows(
  x: Float32Array,
  gain: Float32Array,
  bias: Float32Array,
  m: number,
  d: number,
  eps: number,
  keep: boolean,
): { y: Float32Array; saved?: LayerNormSaved } {
  const y = new Float32Array(m * d); // [m, d]
  const xhat = keep ? new Float32Array(m * d) : undefined; // [m, d]
  const rstd = keep ? new Float32Array(m) : undefined; // [m]
  for (let row = 0, o = 0; row < m; row++, o += d) {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += x[o + j];
    const mu = sum / d;
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const c = x[o + j] - mu;
      sq += c * c;
    }
    const r = 1 / Math.sqrt(sq / d + eps);
    for (let j = 0; j < d; j++) {
      const h = (x[o + j] - mu) * r;
      if (xhat) xhat[o + j] = h;
      y[o + j] = h * gain[j] + bias[j];
    }
    if (rstd) rstd[row] = r;
  }
  return { y, saved: xhat && rstd ? { xhat, rstd } : undefined };
}

/** The backward over rows: dx [m, d] and the weight gradients from dy [m, d] (row-major). */
export function layerNormRowsBackward(
  dy: Float32Array,
  gain: Float32Array,
  saved: LayerNormSaved,
  m: number,
  d: number,
): { dx: Float32Array; dGain: Float32Array; dBias: Float32Array } {
  const { xhat, rstd } = saved;
  const dx = new Float32Array(m * d); // [m, d]
  const dGain = new Float64Array(d);
  const dBias = new Float64Array(d);
  for (let row = 0, o = 0; row < m; row++, o += d) {
    let meanG = 0, meanGx = 0;
    for (let j = 0; j < d; j++) {
      const g = dy[o + j] * gain[j];
      meanG += g;
      meanGx += g * xhat[o + j];
      dGain[j] += dy[o + j] * xhat[o + j];
      dBias[j] += dy[o + j];
    }
    meanG /= d;
    meanGx /= d;
    const r = rstd[row];
    for (let j = 0; j < d; j++) dx[o + j] = r * (dy[o + j] * gain[j] - meanG - xhat[o + j] * meanGx);
  }
  return { dx, dGain: Float32Array.from(dGain), dBias: Float32Array.from(dBias) };
}

/** `layerNormRows` through the SIMD kernels (d a multiple of 4): y as a view of kernel memory (valid until the next call). */
function layerNormKernelRows(
  x: Float32Array,
  gain: Float32Array,
  bias: Float32Array,
  m: number,
  d: number,
  eps: number,
  keep: boolean,
): { y: Float32Array; saved?: LayerNormSaved } {
  const k = layerNormKernels(d, eps);
  const at = reserve(k.memory, { x: m * d, gain: d, bias: d, y: m * d, xhat: m * d, rstd: m });
  view(k.memory, at.x, m * d).set(x);
  view(k.memory, at.gain, d).set(gain);
  view(k.memory, at.bias, d).set(bias);
  k.forward(at.x, at.gain, at.bias, at.y, at.xhat, at.rstd, m);
  const saved = keep ? { xhat: copyOut(k.memory, at.xhat, m * d), rstd: copyOut(k.memory, at.rstd, m) } : undefined;
  return { y: view(k.memory, at.y, m * d), saved };
}

/** `layerNormRowsBackward` through the SIMD kernels: dx as a view of kernel memory (valid until the next call). */
function layerNormKernelRowsBackward(
  dy: Float32Array,
  gain: Float32Array,
  saved: LayerNormSaved,
  m: number,
  d: number,
  eps: number,
): { dx: Float32Array; dGain: Float32Array; dBias: Float32Array } {
  const k = layerNormKernels(d, eps);
  const at = reserve(k.memory, { dy: m * d, gain: d, xhat: m * d, rstd: m, dx: m * d, dGain: d, dBias: d });
  view(k.memory, at.dy, m * d).set(dy);
  view(k.memory, at.gain, d).set(gain);
  view(k.memory, at.xhat, m * d).set(saved.xhat);
  view(k.memory, at.rstd, m).set(saved.rstd);
  view(k.memory, at.dGain, d).fill(0);
  view(k.memory, at.dBias, d).fill(0);
  k.backward(at.dy, at.gain, at.xhat, at.rstd, at.dx, at.dGain, at.dBias, m);
  return {
    dx: view(k.memory, at.dx, m * d),
    dGain: copyOut(k.memory, at.dGain, d),
    dBias: copyOut(k.memory, at.dBias, d),
  };
}

/**
 * LayerNorm over the last axis of x [..., d] as ONE tf.customGrad op, with gradients for x, gain and bias; values
 * and gradients match `layerNormReference` to float32 rounding. Under a gradient tape the forward keeps m d + m
 * floats for the backward; without one, none.
 */
export function layerNorm(
  x: tf.Tensor,
  w: LayerNormWeights,
  eps = 1e-5,
): tf.Tensor {
  const d = x.shape[x.shape.length - 1];
  const m = x.size / d;
  if (w.gain.size !== d || w.bias.size !== d) {
    throw new Error(`layerNorm: gain and bias must be [${d}], got [${w.gain.shape}] and [${w.bias.shape}]`);
  }
  const keep = recordingGradients();
  const simd = d % 4 === 0;
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xIn, gainIn, biasIn] = args as tf.Tensor[];
      const gain = floats(gainIn, "layerNorm: gain").slice();
      const bias = floats(biasIn, "layerNorm: bias");
      const rows = simd ? layerNormKernelRows : layerNormRows;
      const { y, saved } = rows(floats(xIn, "layerNorm: x"), gain, bias, m, d, eps, keep);
      return {
        value: tensorOf(y, x.shape),
        gradFunc: (dy: tf.Tensor): tf.Tensor[] => {
          if (!saved) throw new Error("layerNorm: backward without a recorded forward");
          const dyValues = floats(dy, "layerNorm: dy");
          const g = simd
            ? layerNormKernelRowsBackward(dyValues, gain, saved, m, d, eps)
            : layerNormRowsBackward(dyValues, gain, saved, m, d);
          return [tensorOf(g.dx, x.shape), tensorOf(g.dGain, [d]), tensorOf(g.dBias, [d])];
        },
      };
    }) as Parameters<typeof tf.customGrad>[0],
  );
  return op(x, w.gain, w.bias);
}
