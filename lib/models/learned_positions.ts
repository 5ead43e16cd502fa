/**
 * Adding the learned position table to the token embeddings (the `tf-learned` model's positional encoding), in
 * two implementations with one signature:
 * - `addPositionsReference`: plain tf ops, x + pos[0:l], differentiated by tf autodiff (a broadcast add, a
 *   slice, and under the tape a Sum over the batch and a Pad back to P rows);
 * - `addPositions`: one `tf.customGrad` op over the table alone (the embeddings are constants), with plain
 *   loops: the same float32 additions in the same order (the batch summed first to last), so values and
 *   gradients are bit for bit those of the reference.
 *
 * Glossary: b batch, l length, d model dim, P rows of the table (3L; rows at and beyond l get zero gradient).
 */
import * as tf from "@tensorflow/tfjs";
import { floats, tensorOf } from "../kernels/tensor_io.ts";

/** Plain tf: x [b, l, d] + pos[0:l] (pos [P, d]). */
export function addPositionsReference(x: Float32Array, b: number, l: number, pos: tf.Tensor2D): tf.Tensor3D {
  const d = pos.shape[1];
  const xt = tf.tensor3d(x, [b, l, d]); // [b, l, d]
  return tf.add(xt, tf.slice(pos, [0, 0], [l, d])); // [b, l, d]
}

/** x [b, l, d] + pos[0:l] as ONE op differentiated only with respect to pos [P, d]. */
export function addPositions(x: Float32Array, b: number, l: number, pos: tf.Tensor2D): tf.Tensor3D {
  const [P, d] = pos.shape;
  if (l > P) throw new Error(`length ${l} exceeds the position table (${P} rows)`);
  if (x.length !== b * l * d) throw new Error(`addPositions: x has ${x.length} values, expected ${b}x${l}x${d}`);
  const op = tf.customGrad(
    ((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const table = floats(args[0] as tf.Tensor, "addPositions: pos");
      const out = new Float32Array(b * l * d); // [b, l, d]
      for (let i = 0; i < b; i++) {
        for (let k = 0; k < l * d; k++) out[i * l * d + k] = x[i * l * d + k] + table[k];
      }
      return {
        value: tensorOf(out, [b, l, d]),
        gradFunc: (dy: tf.Tensor): tf.Tensor[] => {
          const g = floats(dy, "addPositions: dy");
          const dPos = new Float32Array(P * d); // [P, d], zero from row l on
          const sum = new Float32Array(1); // a float32 accumulator, rounded after every add as tf's Sum does
          for (let k = 0; k < l * d; k++) {
            sum[0] = 0;
            for (let i = 0; i < b; i++) sum[0] += g[i * l * d + k];
            dPos[k] = sum[0];
          }
          return [tensorOf(dPos, [P, d])];
        },
      };
    }) as Parameters<typeof tf.customGrad>[0],
  );
  return op(pos) as tf.Tensor3D;
}
