/**
 * The reference Mamba's cache (lib/models/mamba_core.ts `mambaCoreWithCache`, mamba_block.ts `mambaBlockWithCache`):
 * its intermediates are what the probes computed before they read them there (a fixture from that code), they fit
 * the recurrence they name, and the probes' retention is the product of the cache's exp(delta A).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { mambaCoreReference, type MambaCoreWeights, mambaCoreWithCache } from "../lib/models/mamba_core.ts";
import { mambaBlockReference, mambaBlockWithCache } from "../lib/models/mamba_block.ts";
import { resolve } from "../lib/training/config.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { traceForward } from "../lib/probes/probe_forward.ts";
import { retention } from "../lib/probes/mamba_probe.ts";
import { numbers, OLD_CORE, OLD_TRACES } from "./fixtures/mamba_cache_fixture.ts";
import { gaussian } from "./fixtures/numeric.ts";

await initBackend();

const e = 3, n = 4, l = 6;

/** The fixture's core (e = 3, n = 4, dt rank 1, conv width 4). */
function fixtureCore(): MambaCoreWeights {
  return {
    convW: tf.tensor2d(numbers(OLD_CORE.convW), [e, 4]),
    convB: tf.tensor1d(numbers(OLD_CORE.convB)),
    xProj: tf.tensor2d(numbers(OLD_CORE.xProj), [e, 1 + 2 * n]),
    dtProj: tf.tensor2d(numbers(OLD_CORE.dtProj), [1, e]),
    dtBias: tf.tensor1d(numbers(OLD_CORE.dtBias)),
    aLog: tf.tensor2d(Float32Array.from({ length: e * n }, (_, k) => Math.log((k % n) + 1)), [e, n]),
    D: tf.ones([e]) as tf.Tensor1D,
  };
}

/** max |a - b| over equally long arrays. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

Deno.test("the cached delta, states and output are what the probe's own scan computed", () => {
  const wt = fixtureCore();
  tf.tidy(() => {
    const x = tf.tensor3d(numbers(OLD_CORE.x), [1, l, e]), z = tf.tensor3d(numbers(OLD_CORE.z), [1, l, e]);
    const { out, cache } = mambaCoreWithCache(x, z, wt);
    assert.deepEqual(cache.delta.shape, [1, l, e]);
    assert.deepEqual(cache.h.shape, [1, l, e, n]);
    assert.ok(maxDiff(cache.delta.dataSync(), numbers(OLD_CORE.delta)) <= 1e-7);
    assert.ok(maxDiff(cache.h.dataSync(), numbers(OLD_CORE.states)) <= 1e-6);
    assert.ok(maxDiff(out.dataSync(), numbers(OLD_CORE.out)) <= 1e-6);
    const forced = mambaCoreWithCache(x, z, wt, { delta: tf.fill([1, l, e], 0.5) as tf.Tensor3D });
    assert.ok(maxDiff(forced.cache.h.dataSync(), numbers(OLD_CORE.forcedStates)) <= 1e-6);
    assert.ok(maxDiff(forced.out.dataSync(), numbers(OLD_CORE.forcedOut)) <= 1e-6);
    assert.deepEqual(Array.from(forced.cache.delta.dataSync()), Array(l * e).fill(0.5));
  });
  tf.dispose(Object.values(wt));
});

Deno.test("the probes' traced forward reads the same delta, attention weights and logits as before", () => {
  for (const model of ["mamba", "hybrid"] as const) {
    const old = OLD_TRACES[model];
    const config = resolve({ model, K: 16, d: 8, M: 2, L: 12, tau: 1, seed: 0 });
    const net = buildModel(config, substream(11, "init"));
    const trace = traceForward(net, Int32Array.from(old.tokens), 1, old.tokens.length);
    net.dispose();
    trace.layers.forEach((layer, i) => {
      const got = layer.kind === "mamba" ? layer.delta : layer.weights;
      // layer 0 reads the same inputs as before; later layers read the reference Mamba's output where the old trace
      // read the fast core's (equal to float32 rounding)
      assert.ok(maxDiff(got, numbers(old.layers[i])) <= (i === 0 ? 1e-7 : 1e-6), `${model} layer ${i}`);
    });
    assert.ok(maxDiff(trace.logits, numbers(old.logits)) <= 1e-5, `${model} logits`);
  }
});

Deno.test("the cache fits the recurrence it names: h = aBar h + bBarU, y = h C + D u, out = y silu(z)", () => {
  const rng = substream(8, "mamba-cache:recurrence");
  const b = 2, ee = 8, nn = 4, r = 1, w = 4, ll = 7;
  const wt: MambaCoreWeights = {
    convW: gaussian(rng, [ee, w], 0.5) as tf.Tensor2D,
    convB: gaussian(rng, [ee], 0.5) as tf.Tensor1D,
    xProj: gaussian(rng, [ee, r + 2 * nn], 0.5) as tf.Tensor2D,
    dtProj: gaussian(rng, [r, ee], 0.5) as tf.Tensor2D,
    dtBias: gaussian(rng, [ee], 0.5, -1) as tf.Tensor1D,
    aLog: tf.log(tf.add(tf.tile(tf.reshape(tf.range(0, nn), [1, nn]), [ee, 1]), 1)) as tf.Tensor2D,
    D: gaussian(rng, [ee], 1) as tf.Tensor1D,
  };
  tf.tidy(() => {
    const x = gaussian(rng, [b, ll, ee], 1) as tf.Tensor3D, z = gaussian(rng, [b, ll, ee], 1) as tf.Tensor3D;
    const { out, cache: c } = mambaCoreWithCache(x, z, wt);
    assert.deepEqual(Array.from(out.dataSync()), Array.from(mambaCoreReference(x, z, wt).dataSync()));
    const close = (a: tf.Tensor, want: tf.Tensor, what: string) =>
      assert.ok(maxDiff(a.dataSync(), want.dataSync()) < 1e-5, what);
    close(c.aBar, tf.exp(tf.mul(tf.expandDims(c.delta, 3), c.A)), "aBar = exp(delta A)");
    close(c.bBarU, tf.mul(tf.expandDims(tf.mul(c.delta, c.u), 3), tf.expandDims(c.B, 2)), "bBarU = delta u B");
    const previous = tf.concat([tf.zeros([b, 1, ee, nn]), tf.slice(c.h, [0, 0, 0, 0], [b, ll - 1, ee, nn])], 1);
    close(c.h, tf.add(tf.mul(c.aBar, previous), c.bBarU), "h[t] = aBar[t] h[t-1] + bBarU[t]");
    close(c.y, tf.add(tf.sum(tf.mul(c.h, tf.expandDims(c.C, 2)), 3), tf.mul(c.u, wt.D)), "y = h C + D u");
    close(c.gate, tf.mul(z, tf.sigmoid(z)), "gate = silu(z)");
    close(out, tf.mul(c.y, c.gate), "out = y gate");
    close(c.u, tf.mul(c.xc, tf.sigmoid(c.xc)), "u = silu(xc)");
  });
  tf.dispose(Object.values(wt));
});

Deno.test("retention is the product of the cache's exp(delta A) over the steps after the write, in the slowest state", () => {
  const wt = fixtureCore();
  const [delta, aBar, aLog] = tf.tidy(() => {
    const x = tf.tensor3d(numbers(OLD_CORE.x), [1, l, e]), z = tf.tensor3d(numbers(OLD_CORE.z), [1, l, e]);
    const { cache } = mambaCoreWithCache(x, z, wt);
    return [cache.delta.dataSync(), cache.aBar.dataSync(), wt.aLog.dataSync()] as Float32Array[];
  });
  for (const [from, to] of [[0, l - 1], [1, 4], [3, 3]]) {
    const kept = retention(delta, l, aLog, e, n, from, to);
    for (let c = 0; c < e; c++) {
      let product = 1; // the slowest state is s = 0 (A_log = log 1, the smallest |A|)
      for (let t = from + 1; t <= to; t++) product *= aBar[(t * e + c) * n];
      assert.ok(Math.abs(kept[c] - product) < 1e-6 * Math.max(1, product), `from ${from} to ${to}, channel ${c}`);
    }
  }
  tf.dispose(Object.values(wt));
});

Deno.test("the cached block is the reference block: same output, and x inX, x inZ and the gate around its core", () => {
  const rng = substream(9, "mamba-cache:block");
  const b = 2, d = 4, ee = 8, ll = 5;
  const core: MambaCoreWeights = {
    convW: gaussian(rng, [ee, 4], 0.5) as tf.Tensor2D,
    convB: gaussian(rng, [ee], 0.5) as tf.Tensor1D,
    xProj: gaussian(rng, [ee, 1 + 2 * 4], 0.5) as tf.Tensor2D,
    dtProj: gaussian(rng, [1, ee], 0.5) as tf.Tensor2D,
    dtBias: gaussian(rng, [ee], 0.5, -1) as tf.Tensor1D,
    aLog: gaussian(rng, [ee, 4], 0.5) as tf.Tensor2D,
    D: gaussian(rng, [ee], 1) as tf.Tensor1D,
  };
  const p = {
    inX: gaussian(rng, [d, ee], 0.5) as tf.Tensor2D,
    inZ: gaussian(rng, [d, ee], 0.5) as tf.Tensor2D,
    out: gaussian(rng, [ee, d], 0.5) as tf.Tensor2D,
  };
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = gaussian(rng, [b, ll, d], 1) as tf.Tensor3D;
    const { out, cache } = mambaBlockWithCache(x, p, core);
    assert.deepEqual(Array.from(out.dataSync()), Array.from(mambaBlockReference(x, p, core).dataSync()));
    assert.deepEqual(cache.xIn.shape, [b, ll, ee]);
    assert.deepEqual(
      Array.from(cache.xIn.dataSync()),
      Array.from(tf.matMul(tf.reshape(x, [b * ll, d]), p.inX).dataSync()),
    );
    assert.deepEqual(
      Array.from(cache.z.dataSync()),
      Array.from(tf.matMul(tf.reshape(x, [b * ll, d]), p.inZ).dataSync()),
    );
    assert.deepEqual(Array.from(cache.gated.dataSync()), Array.from(tf.mul(cache.y, cache.gate).dataSync()));
  });
  assert.equal(tf.memory().numTensors, before, "the cache lives in the caller's tidy");
  tf.dispose([...Object.values(core), ...Object.values(p)]);
});
