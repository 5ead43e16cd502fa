/**
 * `deno task bench`: training-step time (forward, backward, Adam) per model at B=64, L=64, K=16, evaluation
 * throughput at length 3L, and peak RSS; `--vs-torch` also times the PyTorch peer (shared/peers/torch),
 * interleaved model by model, and prints ours/PyTorch ratios. Writes reports/bench.json.
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { defaultRecipe, type ExperimentConfig, MODEL_NAMES, type ModelName, resolve } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { substream } from "../lib/task/random.ts";
import { arBatch } from "../lib/task/ar_data.ts";
import { buildModel } from "../lib/models/model.ts";
import { Adam } from "../lib/training/adam.ts";
import { batchAccuracy, sequencesPerForward } from "../lib/training/train.ts";
import { versions } from "../lib/platform/version.ts";
import { median } from "../lib/stats/median.ts";
import { RECIPE_TABLE } from "../lib/recipes/chosen.ts";
import { peakRssMb } from "../lib/platform/peak_rss.ts";
import { writeJsonAtomic } from "../lib/platform/atomic_write.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { detectPeerBlas, type PeerBlas, peerBlasText, peerEnv } from "../lib/platform/peer_blas.ts";

const USAGE = `deno task bench [flags]

Median and min-max training-step time (after warm-up) at B=64, L=64, K=16 for every model at d=8, and Mamba
also at d=64, each at its recipe's heads (the model table's, as the problems train them; --heads overrides
for models with attention, ours and PyTorch's); evaluation throughput at length 3L; peak RSS. Writes <out>.
Where a step's time goes (forward, backward, optimiser, in and around the kernels): bench/step_breakdown.ts.
--long: the streaming evaluator's benchmark instead (bench/long_eval_bench.ts; deno task bench --long --help).`;

/** Rows benchmarked beyond every model at d=8: Mamba at the width of Problem 3. */
const WIDER: readonly [ModelName, number][] = [["mamba", 64]];

/** Every model of the table at d=8, each followed by its wider rows. */
const ALL: readonly [ModelName, number][] = MODEL_NAMES.flatMap((m): [ModelName, number][] => [
  [m, 8],
  ...WIDER.filter(([w]) => w === m),
]);

/**
 * Warm-up steps the PyTorch peer leaves out of its median (shared/peers/torch/ar.py `--bench`: the first 10 of
 * `--steps`, which we pass as our timed steps + 10). Ours default to the same, so both sides are timed after the same
 * number of steps of each round's fresh model (before 2026-12-02 ours had 5, which put cold-cache steps into our
 * median only: Mamba d = 8 measured 7.6 ms with 5 and 6.6 with 10, back to back).
 */
const PEER_WARMUP_STEPS = 10;

const FLAGS: readonly FlagSpec[] = [
  { name: "steps", type: "int", min: 20, max: 10000, default: 30, help: "Timed steps per model." },
  {
    name: "warmup",
    type: "int",
    min: 1,
    max: 1000,
    default: PEER_WARMUP_STEPS,
    help: `Untimed warm-up steps per model and round (default ${PEER_WARMUP_STEPS}: the steps the PyTorch peer drops).`,
  },
  { name: "eval-seqs", type: "int", min: 1, max: 100000, default: 512, help: "Sequences timed at length 3L." },
  {
    name: "models",
    type: "string",
    default: "all",
    help: `Comma-separated subset of ${ALL.map(([m, d]) => `${m}:${d}`).join(",")}, or all.`,
  },
  { name: "out", type: "file", default: "reports/bench.json", help: "Where to write the JSON." },
  {
    name: "rounds",
    type: "int",
    min: 1,
    max: 100,
    default: 3,
    help: "Rounds per model, ours then PyTorch's in each; the ratio is the median of the rounds' ratios.",
  },
  {
    name: "heads",
    type: "int",
    min: 1,
    max: 64,
    help: "Attention heads for models with attention, ours and PyTorch's (default: each model's recipe, " +
      "MODEL_TABLE in lib/models/model_table.ts, as the problems train them).",
  },
  { name: "vs-torch", type: "boolean", help: "Also time the PyTorch peer (needs Debian python3-torch)." },
  { name: "torch-dir", type: "string", default: "../shared/peers/torch", help: "Folder of the PyTorch peer." },
  {
    name: "torch-python",
    type: "string",
    default: "/usr/bin/python3",
    help: "The python (with torch) that runs the peer; its BLAS is detected before anything is timed.",
  },
  {
    name: "allow-reference-blas",
    type: "boolean",
    help: "Compare even when the peer runs on the slow reference BLAS (refused otherwise: exit 2).",
  },
];

interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly n: number;
}

interface BenchRow {
  readonly model: ModelName;
  readonly d: number;
  /** Attention heads (0: no attention). */
  readonly heads: number;
  readonly params: number;
  readonly step: Timing;
  /** Every timed step (ms), all rounds. */
  readonly stepTimes: readonly number[];
  readonly evalSeqPerSec: number;
  readonly torch?: {
    /** Median over rounds of PyTorch's per-round median step. */
    readonly stepMs: number;
    readonly evalSeqPerSec?: number;
    /** Median over rounds of (our median step / PyTorch's median step) in that round. */
    readonly ratio: number;
    readonly ratioRounds: readonly number[];
  } | {
    readonly error: string;
  };
}

function summarise(ms: number[]): Timing {
  const s = [...ms].sort((a, b) => a - b);
  return { medianMs: median(s), minMs: s[0], maxMs: s[s.length - 1], n: s.length };
}

/** The heads a model is benchmarked with: `--heads` if given (models with attention only), else its recipe's. */
/**
 * The heads a row trains with: those of the first screened recipe in the recipe table for this model and width (the
 * table lists Problem 1's settings first), else the model table's default; --heads overrides both for models with
 * attention.
 */
function headsFor(model: ModelName, d: number, heads: number | undefined): number {
  const row = RECIPE_TABLE.find((r) => r.setting.model === model && r.setting.d === d && r.chosen !== null);
  const chosen = row?.chosen?.heads;
  const recipe = chosen !== undefined && chosen > 0 ? chosen : defaultRecipe(model, 1).heads;
  return recipe > 0 && heads !== undefined ? heads : recipe;
}

function benchOurs(
  model: ModelName,
  d: number,
  heads: number,
  steps: number,
  warmup: number,
  evalSeqs: number,
): BenchRow {
  const input: ExperimentConfig = { model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0, ...(heads > 0 ? { heads } : {}) };
  const config = resolve(input);
  const net = buildModel(config, substream(0, "init"));
  const vars = net.params.map((p) => p.variable);
  const adam = new Adam(vars, { lr: 1e-3, warmup: 0, clip: 1 });
  const rng = substream(0, "train");
  const spec = { K: 16, M: 1, tau: 1 };
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const batch = arBatch(rng, spec, 64, 64);
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => net.loss(batch.tokens, batch.labels, 64, 64), vars);
    value.dataSync();
    adam.step(vars.map((v) => grads[v.name]));
    tf.dispose([value, ...Object.values(grads)]);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const evalBatch = arBatch(substream(0, "bench-eval"), spec, evalSeqs, 192);
  const chunk = sequencesPerForward(192, d); // as evaluation does
  batchAccuracy(net, arBatch(rng, spec, 32, 192), chunk); // warm-up at this length
  const t0 = performance.now();
  batchAccuracy(net, evalBatch, chunk);
  const evalSeqPerSec = evalSeqs / ((performance.now() - t0) / 1000);
  const params = net.paramCount;
  net.dispose();
  return { model, d, heads, params, step: summarise(times), stepTimes: times, evalSeqPerSec };
}

/** Time the PyTorch peer's training step (its own --bench mode) and its evaluation at length 3L. */
async function benchTorch(
  python: string,
  dir: string,
  model: ModelName,
  d: number,
  ourHeads: number,
  steps: number,
  evalSeqs: number,
): Promise<{ stepMs: number; evalSeqPerSec: number }> {
  const heads = ourHeads || 1; // our heads; the peer wants 1 for a model without attention
  const tmp = await Deno.makeTempFile({ suffix: ".json" });
  const env = await peerEnv();
  const name = model.replace("-", "_"); // the peer spells models tf_learned, tf_rope, ...
  const train = await new Deno.Command(python, {
    args: [
      "ar.py",
      "--model",
      name,
      "--d",
      String(d),
      "--L",
      "64",
      "--batch",
      "64",
      "--heads",
      String(heads),
      "--bench",
      "--steps",
      String(steps + PEER_WARMUP_STEPS),
      "--threads",
      "1",
      "--out",
      tmp,
    ],
    cwd: dir,
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!train.success) throw new Error(new TextDecoder().decode(train.stderr).trim().split("\n").at(-1));
  const stepMs = JSON.parse(await Deno.readTextFile(tmp)).median_step_ms as number;
  await Deno.remove(tmp);
  const script = [
    "import sys, time, numpy as np, torch",
    "sys.argv = ['ar.py']",
    "import ar",
    "torch.set_num_threads(1)",
    `m = ar.ARModel('${name}', 16, ${d}, 64, heads=${heads}, norm='auto', pos_factor=3)`,
    "rng = np.random.default_rng(0)",
    `x, y = ar.make_batch(rng, 32, 192, 16, 1, 1)`,
    "ar.accuracy(m, x, y)",
    `x, y = ar.make_batch(rng, ${evalSeqs}, 192, 16, 1, 1)`,
    "t0 = time.perf_counter(); ar.accuracy(m, x, y, chunk=170); dt = time.perf_counter() - t0",
    `print(${evalSeqs} / dt)`,
  ].join("\n");
  const ev = await new Deno.Command(python, {
    args: ["-c", script],
    cwd: dir,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!ev.success) throw new Error(new TextDecoder().decode(ev.stderr).trim().split("\n").at(-1));
  return { stepMs, evalSeqPerSec: Number(new TextDecoder().decode(ev.stdout).trim()) };
}

await cliMain(async () => {
  // --long: the streaming evaluator's benchmark instead (bench/long_eval_bench.ts, its own flags)
  if (Deno.args.includes("--long")) {
    return (await import("./long_eval_bench.ts")).longEvalBench(Deno.args.filter((a) => a !== "--long"));
  }
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const wanted = (f.models as string) === "all" ? ALL : (f.models as string).split(",").map((s) => {
    const hit = ALL.find(([m, d]) => `${m}:${d}` === s.trim());
    if (!hit) {
      throw new UsageError(`--models: unknown entry "${s}" (allowed: ${ALL.map(([m, d]) => `${m}:${d}`).join(",")})`);
    }
    return hit;
  });
  const python = f["torch-python"] as string;
  let peerBlas: PeerBlas | { error: string } | undefined;
  if (f["vs-torch"]) {
    try {
      peerBlas = await detectPeerBlas(python, await peerEnv());
    } catch (e) {
      peerBlas = { error: (e as Error).message };
    }
    if ("error" in peerBlas) console.log(`PyTorch peer unavailable: ${peerBlas.error}`);
    else {
      console.log(peerBlasText(peerBlas));
      if (peerBlas.kind === "reference" && !f["allow-reference-blas"]) {
        throw new UsageError(
          `the PyTorch peer would run on the reference BLAS (${peerBlas.libraries.join(", ")}), which makes ` +
            `the comparison unfair: install libopenblas0-pthread, or pass --allow-reference-blas`,
        );
      }
      if (peerBlas.kind === "unknown") console.log("warning: no known BLAS library was mapped by the peer");
    }
  }
  const backend = await initBackend();
  const rows: BenchRow[] = [];
  const rounds = f.rounds as number;
  for (const [model, d] of wanted) {
    const heads = headsFor(model, d, f.heads as number | undefined);
    // Rounds interleave ours and PyTorch's so that both see the same machine state; per-round ratios then
    // cancel slow drifts of this shared machine, and their median is the figure we report.
    const ours: BenchRow[] = [];
    const torch: { stepMs: number; evalSeqPerSec: number }[] = [];
    let torchError: string | undefined = peerBlas !== undefined && "error" in peerBlas ? peerBlas.error : undefined;
    for (let r = 0; r < rounds; r++) {
      ours.push(benchOurs(model, d, heads, f.steps as number, f.warmup as number, f["eval-seqs"] as number));
      if (f["vs-torch"] && torchError === undefined) {
        try {
          torch.push(
            await benchTorch(
              python,
              f["torch-dir"] as string,
              model,
              d,
              heads,
              f.steps as number,
              f["eval-seqs"] as number,
            ),
          );
        } catch (e) {
          torchError = (e as Error).message;
        }
      }
    }
    const all = ours.flatMap((o) => o.stepTimes);
    let row: BenchRow = {
      model,
      d,
      heads,
      params: ours[0].params,
      step: summarise(all),
      stepTimes: all,
      evalSeqPerSec: median(ours.map((o) => o.evalSeqPerSec)),
    };
    if (torchError !== undefined) row = { ...row, torch: { error: torchError } };
    else if (torch.length > 0) {
      const ratioRounds = torch.map((t, r) => ours[r].step.medianMs / t.stepMs);
      row = {
        ...row,
        torch: {
          stepMs: median(torch.map((t) => t.stepMs)),
          evalSeqPerSec: median(torch.map((t) => t.evalSeqPerSec)),
          ratio: median(ratioRounds),
          ratioRounds,
        },
      };
    }
    rows.push(row);
    const s = row.step;
    let line =
      `${model.padEnd(10)} d=${String(d).padEnd(3)} h=${heads || "-"} step ${s.medianMs.toFixed(1)} ms (min ${
        s.minMs.toFixed(1)
      }, ` +
      `max ${s.maxMs.toFixed(1)}, n=${s.n})  eval@3L ${row.evalSeqPerSec.toFixed(0)} seq/s`;
    if (row.torch && "ratio" in row.torch) {
      line += `  | torch ${row.torch.stepMs.toFixed(1)} ms, eval ${row.torch.evalSeqPerSec?.toFixed(0)} seq/s` +
        `  ratio ours/torch ${row.torch.ratio.toFixed(2)}` +
        (row.torch.ratioRounds.length > 1
          ? ` (rounds ${row.torch.ratioRounds.map((x) => x.toFixed(2)).join(", ")})`
          : "");
    } else if (row.torch) line += `  | torch failed: ${row.torch.error}`;
    console.log(line);
  }
  const rss = peakRssMb();
  console.log(`peak RSS ${rss.toFixed(0)} MB; backend ${backend.backend} (${backend.wasmBinary})`);
  const out = f.out as string;
  await writeJsonAtomic(out, {
    date: new Date().toISOString(),
    cores: navigator.hardwareConcurrency,
    versions: versions(),
    backend,
    batch: 64,
    L: 64,
    K: 16,
    peakRssMb: rss,
    rounds,
    ...(peerBlas === undefined ? {} : { torchBlas: peerBlas }),
    rows,
  });
  console.log(`wrote ${join(out)}`);
});
