/** Recall Lab's own version and the versions of everything that can change a result, recorded in every result. */
import * as tf from "@tensorflow/tfjs";

export interface Versions {
  readonly recallLab: string;
  readonly deno: string;
  readonly v8: string;
  readonly tfjs: string;
}

/** Recall Lab's release version (informational: run keys use TRAINING_REVISION, lib/training/revision.ts). */
export const RECALL_LAB_VERSION = "0.2.0";

/** Versions of Recall Lab, Deno, V8 and TF.js in this process. */
export function versions(): Versions {
  return {
    recallLab: RECALL_LAB_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    tfjs: tf.version.tfjs,
  };
}
