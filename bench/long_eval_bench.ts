/**
 * Benchmark of the streaming evaluator (lib/models/long_forward.ts): seconds for one AR sequence of --length tokens
 * (default 2^20) through the two-layer Mamba at d = 64 and d = 8, tokens/s, and peak RSS; the same for the
 * Transformer (RoPE, d = 8) at --attention-length (default 2^14) and the Hybrid (d = 8) at --length. Weights are the
 * random initialisation (seed 0): the time does not depend on their values. Each case runs in a process of its own
 * (one thread: the kernels and loops are single-threaded), so each peak RSS is that case's alone. The 1-minute load
 * average is printed beside every time, and the process's CPU seconds next to its wall seconds: on a shared machine
 * the wall time grows with the load, the CPU time much less. A target is judged on the wall time.
 *
 * Targets (issue 21, part 1): d = 64 in at most 15 s, d = 8 in at most 3 s, peak RSS at most 1 GB.
 *
 * Run: deno run -A bench/long_eval_bench.ts [--length N] [--attention-length N] [--chunk N] [--budget-mb N]
 * (also `deno task bench --long [flags]`). With --load FILE: a trained model's accuracy at --lengths instead.
 */
import process from "node:process";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "../lib/cli/flags.ts";
import { type ModelName, resolve } from "../lib/training/config.ts";
import { initBackend } from "../lib/platform/backend.ts";
import { buildModel } from "../lib/models/model.ts";
import { substream } from "../lib/task/random.ts";
import { ArRowStream } from "../lib/task/ar_stream.ts";
import { LongForward, weightsOfModel } from "../lib/models/long_forward.ts";
import {
  checkLongEval,
  DEFAULT_BUDGET_MB,
  DEFAULT_CHUNK,
  evaluateLong,
  MAX_ATTENTION_LENGTH,
  MAX_BUDGET_MB,
  MAX_CHUNK,
  MAX_LONG_SAMPLES,
  MAX_STREAM_LENGTH,
  MIN_BUDGET_MB,
  weightsOfCheckpoint,
} from "../lib/training/evaluate_long.ts";
import { loadCheckpoint } from "../lib/training/checkpoint.ts";
import { peakRssMb } from "../lib/platform/peak_rss.ts";

const USAGE = `deno run -A bench/long_eval_bench.ts [flags]   (or: deno task bench --long [flags])

Seconds, tokens/s and peak RSS for one sequence through the streaming evaluator: Mamba at d = 64 and d = 8 and the
Hybrid (d = 8) at --length, the RoPE Transformer (d = 8) at --attention-length; each case in its own process.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "length", type: "int", min: 3, max: MAX_STREAM_LENGTH, default: 2 ** 20, help: "Tokens of the sequence." },
  {
    name: "attention-length",
    type: "int",
    min: 3,
    max: MAX_ATTENTION_LENGTH,
    default: MAX_ATTENTION_LENGTH,
    help: "Tokens of the Transformer's sequence.",
  },
  { name: "chunk", type: "int", min: 1, max: MAX_CHUNK, default: DEFAULT_CHUNK, help: "Tokens per step." },
  {
    name: "budget-mb",
    type: "int",
    min: MIN_BUDGET_MB,
    max: MAX_BUDGET_MB,
    default: DEFAULT_BUDGET_MB,
    help: "Working-memory budget (MB) the evaluator is checked against.",
  },
  { name: "skip-hybrid", type: "boolean", help: "Leave out the Hybrid (its attention is O(l d) per sequence)." },
  {
    name: "load",
    type: "string",
    help: "Instead: evaluate this checkpoint (safetensors) with evaluateLong at --lengths, --samples each.",
  },
  {
    name: "lengths",
    type: "string",
    default: "1024,16384,1048576",
    help: "With --load: comma-separated lengths.",
  },
  {
    name: "samples",
    type: "int",
    min: 1,
    max: MAX_LONG_SAMPLES,
    default: 64,
    help: "With --load: sequences per length.",
  },
  { name: "case", type: "string", help: "Internal: run one case (model:d:length) and print its JSON." },
];

interface CaseResult {
  readonly model: ModelName;
  readonly d: number;
  readonly length: number;
  readonly chunk: number;
  readonly seconds: number;
  /** CPU seconds (user + system) of the process over the same span: what the case costs a core of its own. */
  readonly cpuSeconds: number;
  readonly tokensPerSecond: number;
  readonly peakRssMb: number;
  /** The 1-minute load average when the case ended. */
  readonly load: number;
}

/** One sequence of `length` through `model` at width d, timed from the first token drawn to the logits. */
async function runCase(model: ModelName, d: number, length: number, chunk: number, budgetMb: number) {
  await initBackend();
  const config = resolve({ model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0, farLengths: [] });
  checkLongEval(config, [length], 1, { chunk, budgetMb });
  const net = buildModel(config, substream(0, "init"));
  const weights = weightsOfModel(net);
  net.dispose();
  const c = Math.min(chunk, length);
  const tokens = new Int32Array(c);
  const start = performance.now(), cpuStart = process.cpuUsage();
  const row = new ArRowStream(substream(0, `eval:length=${length}`), config, length);
  const forward = new LongForward(weights, 1, length);
  for (let t0 = 0; t0 < length; t0 += c) {
    const n = Math.min(c, length - t0);
    row.fill(tokens.subarray(0, n));
    forward.push(tokens.subarray(0, n), n);
  }
  forward.logits();
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const result: CaseResult = {
    model,
    d,
    length,
    chunk: c,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    tokensPerSecond: length / seconds,
    peakRssMb: peakRssMb(),
    load: Deno.loadavg()[0],
  };
  console.log(JSON.stringify(result));
}

/** Run one case in a child process (a fresh peak RSS) and return its result. */
async function child(spec: string, f: Record<string, unknown>): Promise<CaseResult> {
  const args = ["run", "-A", new URL(import.meta.url).pathname, "--case", spec];
  args.push("--chunk", String(f.chunk), "--budget-mb", String(f["budget-mb"]));
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) {
    throw new Error(`${spec}: ${new TextDecoder().decode(out.stderr).trim().split("\n").at(-1)}`);
  }
  return JSON.parse(text) as CaseResult;
}

/** Accuracy of a trained model at long lengths, one line per length with its time, then the peak RSS. */
async function evaluateCheckpoint(path: string, lengthsText: string, samples: number, chunk: number, budgetMb: number) {
  const lengths = lengthsText.split(",").map((s) => s.trim() === "" ? NaN : Number(s));
  if (lengths.some((l) => !Number.isInteger(l))) {
    throw new UsageError(`--lengths must be comma-separated integers, got "${lengthsText}"`);
  }
  const weights = weightsOfCheckpoint(await loadCheckpoint(path));
  const c = weights.config;
  console.log(`${path}: ${c.model} d=${c.d} K=${c.K} M=${c.M} L=${c.L} tau=${c.tau}, ${samples} sequences per length`);
  console.log("| length | accuracy | samples | seconds | in lockstep | load (1 min) |");
  console.log("| --: | --: | --: | --: | --: | --: |");
  evaluateLong(weights, lengths, samples, {
    chunk,
    budgetMb,
    onLength: (r) =>
      console.log(
        `| ${r.length} | ${(100 * r.accuracy).toFixed(1)}% | ${r.samples} | ${r.seconds.toFixed(2)} | ${r.lockstep} | ${
          Deno.loadavg()[0].toFixed(2)
        } |`,
      ),
  });
  console.log(`peak RSS ${peakRssMb().toFixed(0)} MB`);
}

/** The benchmark's main, for `deno task bench --long` too (argv without --long). */
export async function longEvalBench(argv: readonly string[]): Promise<void> {
  const f = parseFlags(argv, FLAGS, USAGE);
  if (!f) return;
  const chunk = f.chunk as number, budgetMb = f["budget-mb"] as number;
  if (f.case !== undefined) {
    const [model, d, length] = (f.case as string).split(":");
    await runCase(model as ModelName, Number(d), Number(length), chunk, budgetMb);
    return;
  }
  if (f.load !== undefined) {
    return await evaluateCheckpoint(f.load as string, f.lengths as string, f.samples as number, chunk, budgetMb);
  }
  const length = f.length as number, attentionLength = f["attention-length"] as number;
  // refuse settings out of range before spending minutes (one line, exit 2)
  for (const [model, d, l] of [["mamba", 64, length], ["tf-rope", 8, attentionLength]] as const) {
    checkLongEval(resolve({ model, K: 16, d, M: 1, L: 64, tau: 1, seed: 0 }), [l], 1, { chunk, budgetMb });
  }
  const cases: [ModelName, number, number, number | undefined][] = [
    ["mamba", 64, length, length === 2 ** 20 ? 15 : undefined],
    ["mamba", 8, length, length === 2 ** 20 ? 3 : undefined],
    ["tf-rope", 8, attentionLength, undefined],
    ...(f["skip-hybrid"] ? [] : [["hybrid", 8, length, undefined] as [ModelName, number, number, undefined]]),
  ];
  console.log(`streaming evaluator, one sequence each, chunk ${chunk} (random-init weights, seed 0)`);
  console.log("| model | d | length | seconds | CPU seconds | tokens/s | peak RSS (MB) | load (1 min) | target |");
  console.log("| --- | --: | --: | --: | --: | --: | --: | --: | --- |");
  let allMet = true;
  for (const [model, d, l, targetSeconds] of cases) {
    const r = await child(`${model}:${d}:${l}`, f);
    const timeMet = targetSeconds === undefined || r.seconds <= targetSeconds;
    const rssMet = r.peakRssMb <= 1024;
    allMet &&= timeMet && rssMet;
    const target = [
      targetSeconds === undefined ? "" : `<= ${targetSeconds} s: ${timeMet ? "met" : "NOT met"}`,
      `<= 1 GB: ${rssMet ? "met" : "NOT met"}`,
    ].filter((s) => s).join("; ");
    console.log(
      `| ${model} | ${d} | ${l} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${
        Math.round(r.tokensPerSecond)
      } | ${r.peakRssMb.toFixed(0)} | ${r.load.toFixed(2)} | ${target} |`,
    );
  }
  console.log(allMet ? "every target met" : "some target NOT met");
}

if (import.meta.main) await cliMain(() => longEvalBench(Deno.args));
