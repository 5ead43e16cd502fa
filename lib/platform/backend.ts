/**
 * TF.js set-up: the WASM backend (SIMD when the runtime has it), initialised once per process.
 *
 * In Deno, tfjs takes its Node path and reads `tfjs-backend-wasm-simd.wasm` from node_modules with `fs`,
 * so no `setWasmPaths` is needed; `setBackend` returns false without read permission, which we check.
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";

/** Which backend and which wasm binary a run used; recorded in every result. */
export interface BackendInfo {
  readonly backend: string;
  readonly simd: boolean;
  readonly threads: boolean;
  readonly wasmBinary: string;
  readonly tfjs: string;
}

let cached: BackendInfo | undefined;

/** Select the wasm backend once; warn loudly (once) when SIMD is unavailable. */
export async function initBackend(): Promise<BackendInfo> {
  if (cached) return cached;
  const ok = await tf.setBackend("wasm");
  await tf.ready();
  if (!ok || tf.getBackend() !== "wasm") {
    throw new Error(
      "could not start the TF.js wasm backend (does the process have read access to node_modules? run with -A)",
    );
  }
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") as boolean;
  const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") as boolean;
  if (!simd) {
    console.error(
      "WARNING: WebAssembly SIMD is not available: TF.js runs the plain wasm binary, several times slower.",
    );
  }
  cached = {
    backend: tf.getBackend(),
    simd,
    threads,
    wasmBinary: simd
      ? (threads ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm")
      : "tfjs-backend-wasm.wasm",
    tfjs: tf.version.tfjs,
  };
  return cached;
}
