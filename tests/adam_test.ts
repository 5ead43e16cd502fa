import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { Adam } from "../lib/training/adam.ts";

await initBackend();

function quadraticLoss(a: tf.Variable, b: tf.Variable): tf.Scalar {
  const target = tf.tensor1d([1, -2, 3]);
  return tf.add(tf.sum(tf.square(tf.sub(a, target))), tf.sum(tf.pow(b, 4))) as tf.Scalar;
}

Deno.test("Adam follows tf.train.adam step for step without warm-up or clipping", () => {
  const mk = () => [tf.variable(tf.tensor1d([0.5, 0.1, -0.3])), tf.variable(tf.tensor2d([[0.2, -0.7]]))];
  const ours = mk(), theirs = mk();
  const adam = new Adam(ours, { lr: 0.05, warmup: 0, clip: 0 });
  const ref = tf.train.adam(0.05);
  for (let step = 0; step < 20; step++) {
    const { value, grads } = tf.variableGrads(() => quadraticLoss(ours[0], ours[1]), ours);
    adam.step(ours.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
    ref.minimize(() => quadraticLoss(theirs[0], theirs[1]), false, theirs);
  }
  for (let i = 0; i < 2; i++) {
    const a = ours[i].dataSync(), b = theirs[i].dataSync();
    for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-5, `${a[j]} vs ${b[j]}`);
  }
});

Deno.test("Adam warms the learning rate up linearly and clips the global gradient norm", () => {
  const v = tf.variable(tf.tensor1d([0, 0]));
  const adam = new Adam([v], { lr: 0.1, warmup: 4, clip: 1 });
  assert.equal(adam.lrAt(1), 0.025);
  assert.equal(adam.lrAt(4), 0.1);
  assert.equal(adam.lrAt(100), 0.1);
  const g = tf.tensor1d([30, 40]);
  const info = adam.step([g]);
  assert.equal(info.gradNorm, 50);
  // First Adam step moves each coordinate by lr * sign(g) regardless of scale: clipped or not, -0.025.
  const p = v.dataSync();
  assert.ok(Math.abs(p[0] + 0.025) < 1e-6 && Math.abs(p[1] + 0.025) < 1e-6);
  // The tensor count stays flat across steps.
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) adam.step([g]);
  assert.equal(tf.memory().numTensors, before);
});
