/**
 * Benchmark (not a test): median milliseconds of the Mamba core forward, and forward + backward (gradients
 * of sum(out * R) w.r.t. all nine inputs), fast `mambaCore` vs `mambaCoreReference`, at b = l = 64, n = 16,
 * for d = 8 (e = 16, r = 1) and d = 64 (e = 128, r = 4).
 *
 * The "no-op (harness)" row is an op with the same inputs and outputs that does nothing: the cost of the loss
 * and tf.grads around the op, included in the other rows.
 *
 * Run: deno run -A bench/mamba_core_bench.ts [--reps N] [--d 8|64] [--no-reference]
 */
import process from "node:process";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/platform/backend.ts";
import { mambaCore, mambaCoreReference, type MambaCoreWeights } from "../lib/models/mamba_core.ts";
import { mt19937, type RandomStream } from "../lib/task/random.ts";

type Core = typeof mambaCore;

/**
 * Same inputs and outputs as the core, no work: zeros out, zero gradients. Its fwd+bwd time is the cost of
 * the benchmark's loss and tf.grads around the op, to subtract from the others.
 */
const noopCore: Core = (xIn, z, w) => {
  const noop = tf.customGrad(
    ((...args: tf.Tensor[]) => ({
      value: tf.zerosLike(args[0]),
      gradFunc: (): tf.Tensor[] => args.slice(0, 9).map((t) => tf.zerosLike(t)),
    })) as Parameters<typeof tf.customGrad>[0],
  );
  return noop(xIn, z, w.convW, w.convB, w.xProj, w.dtProj, w.dtBias, w.aLog, w.D) as tf.Tensor3D;
};

function gaussian(rng: RandomStream, shape: number[], scale: number, shift = 0): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: size }, () => shift + scale * rng.gaussian()), shape);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Timing {
  readonly wall: number;
  readonly wallMin: number;
  readonly cpu: number;
}

/**
 * Median (and minimum) wall-clock and median CPU ms of `reps` runs of fn after `warmup` runs. Everything runs on one thread, so
 * on an idle machine the two agree; when other processes compete for the cores, CPU time is the steadier.
 */
function timeIt(fn: () => void, warmup: number, reps: number): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), wallMin: Math.min(...wall), cpu: median(cpu) };
}

function show(t: Timing): string {
  return `${t.wall.toFixed(2).padStart(7)} ms (min ${t.wallMin.toFixed(2).padStart(7)}, cpu ${
    t.cpu.toFixed(1).padStart(6)
  })`;
}

function benchShape(d: number, reps: number, withReference: boolean): void {
  const b = 64, l = 64, n = 16, e = 2 * d, r = Math.ceil(d / 16), w = 4;
  const rng = mt19937(d);
  const inputs = [
    gaussian(rng, [b, l, e], 1), // xIn
    gaussian(rng, [b, l, e], 1), // z
    gaussian(rng, [e, w], 0.5), // convW
    gaussian(rng, [e], 0.1), // convB
    gaussian(rng, [e, r + 2 * n], 1 / Math.sqrt(e)), // xProj
    gaussian(rng, [r, e], 1 / Math.sqrt(r)), // dtProj
    gaussian(rng, [e], 0.5, -4), // dtBias: softplus ~ 0.02
    gaussian(rng, [e, n], 0.3, 1.5), // aLog
    gaussian(rng, [e], 0.1, 1), // D
  ];
  const weight = gaussian(rng, [b, l, e], 1);
  const apply = (core: Core, t: tf.Tensor[]): tf.Tensor3D => {
    const wt: MambaCoreWeights = {
      convW: t[2] as tf.Tensor2D,
      convB: t[3] as tf.Tensor1D,
      xProj: t[4] as tf.Tensor2D,
      dtProj: t[5] as tf.Tensor2D,
      dtBias: t[6] as tf.Tensor1D,
      aLog: t[7] as tf.Tensor2D,
      D: t[8] as tf.Tensor1D,
    };
    return core(t[0] as tf.Tensor3D, t[1] as tf.Tensor3D, wt);
  };
  const forward = (core: Core) => (): void => {
    tf.tidy(() => void apply(core, inputs).dataSync());
  };
  const forwardBackward = (core: Core) => (): void => {
    tf.tidy(() => {
      const grads = tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(apply(core, t), weight)))(inputs);
      for (const g of grads) g.dataSync();
    });
  };
  const refReps = Math.max(1, Math.min(reps, d >= 64 ? 3 : 5));
  const rows = [
    ["no-op (harness)", timeIt(forward(noopCore), 3, reps), timeIt(forwardBackward(noopCore), 3, reps)],
    ["mambaCore", timeIt(forward(mambaCore), 3, reps), timeIt(forwardBackward(mambaCore), 3, reps)],
    ...(withReference
      ? [
        [
          "mambaCoreReference",
          timeIt(forward(mambaCoreReference), 1, refReps),
          timeIt(forwardBackward(mambaCoreReference), 1, refReps),
        ] as const,
      ]
      : []),
  ] as const;
  console.log(`d=${d} (b=${b} l=${l} e=${e} n=${n} r=${r})`);
  for (const [name, fwd, both] of rows) {
    console.log(`  ${name.padEnd(20)} fwd ${show(fwd)}   fwd+bwd ${show(both)}`);
  }
  tf.dispose([...inputs, weight]);
}

const repsFlag = Deno.args.indexOf("--reps");
const reps = repsFlag >= 0 ? Number(Deno.args[repsFlag + 1]) : 15;
const info = await initBackend();
console.log(`backend ${info.backend} (${info.wasmBinary}), tfjs ${info.tfjs}, median of ${reps} runs`);
console.log(
  `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")} on ${navigator.hardwareConcurrency} cores`,
);
const dFlag = Deno.args.indexOf("--d");
const widths = dFlag >= 0 ? [Number(Deno.args[dFlag + 1])] : [8, 64];
for (const d of widths) benchShape(d, reps, !Deno.args.includes("--no-reference"));
