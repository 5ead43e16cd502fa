/**
 * Moving values between TF.js tensors and kernel memory, for fused ops built on the WebAssembly kernels.
 *
 * On the tfjs wasm backend a tensor's values can be read as a view of the backend's heap (no `dataSync` copy);
 * such a view is valid only until the next tf op, so callers copy what they keep before running one.
 */
import * as tf from "@tensorflow/tfjs";

/** The part of the tfjs-wasm backend used to read tensors without `dataSync`'s extra (and slow) copy. */
interface HeapBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/** The values of a float32 tensor (a heap view on wasm, valid until the next tf op); `what` names it in errors. */
export function floats(t: tf.Tensor, what: string): Float32Array {
  if (t.dtype !== "float32") throw new Error(`${what} must be float32, got ${t.dtype}`);
  const backend = tf.backend() as Partial<HeapBackend>;
  if (tf.getBackend() === "wasm" && typeof backend.typedArrayFromHeap === "function") {
    return backend.typedArrayFromHeap(t);
  }
  return t.dataSync() as Float32Array;
}

/**
 * A tensor holding a copy of `values`. The wasm backend copies into its heap at creation, so `values` may be
 * a view of kernel memory; other backends keep the array itself, so they get a copy.
 */
export function tensorOf(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === "wasm" ? values : values.slice(), shape, "float32");
}

/**
 * True when tf records a gradient tape at this call (then the op's backward may run and needs saved state).
 * Call it before entering a customGrad forward: inside one, kernelDepth is already 1.
 */
export function recordingGradients(): boolean {
  const state = tf.engine().state;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}
