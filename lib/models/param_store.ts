/**
 * Trainable parameters and where their initial values come from: every entry is drawn from the run's "init"
 * stream, in the order the model asks for them (so the order of `add`/`normal`/`uniform` calls is part of the
 * result: the same seed gives the same weights only if the calls come in the same order).
 */
import * as tf from "@tensorflow/tfjs";
import type { RandomStream } from "../task/random.ts";

/** A named trainable parameter, so tests and counts can refer to it. */
export interface Param {
  readonly name: string;
  readonly variable: tf.Variable;
}

/** The parameters of one model, in creation order, with the init stream they draw from. */
export class ParamStore {
  readonly params: Param[] = [];
  readonly #rng: RandomStream;
  constructor(rng: RandomStream) {
    this.#rng = rng;
  }
  add(name: string, shape: number[], values: Float32Array): tf.Variable {
    // The initial tensor is released once the variable holds its data (a variable shares it, ref-counted), and
    // TF.js's own variable name is left unique (auto-generated): two live models may share parameter names.
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, true);
    initial.dispose();
    this.params.push({ name, variable });
    return variable;
  }
  /** A parameter whose entries are `draw()` in row-major order. */
  fill(name: string, shape: number[], draw: () => number): tf.Variable {
    const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < v.length; i++) v[i] = draw();
    return this.add(name, shape, v);
  }
  /** N(0, std^2) entries. */
  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.fill(name, shape, () => std * this.#rng.gaussian());
  }
  /** U(-bound, bound) entries (PyTorch's nn.Linear default uses bound = 1/sqrt(fan_in)). */
  uniform(name: string, shape: number[], bound: number): tf.Variable {
    return this.fill(name, shape, () => bound * (2 * this.#rng.double() - 1));
  }
  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.fill(name, shape, () => value);
  }
  /** Draw a raw double from the init stream (for inits that need their own formula). */
  double(): number {
    return this.#rng.double();
  }
}
