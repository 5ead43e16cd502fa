/**
 * `deno task data`: print AR examples exactly as the models see them (JSON lines), or the embedding V.
 */
import { arBatch, toJsonLines } from "../task/ar_data.ts";
import { embedding } from "../task/embedding.ts";
import { substream } from "../task/random.ts";
import { TASK_FLAGS } from "./task_flags.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";
import { checkTask } from "../training/config.ts";

const USAGE = `deno task data [flags]

Print AR examples as JSON lines {"tokens":[...],"label":v,"queryIndex":i} (token ids 0..K-1), drawn from the
same seeded stream a run with this --seed trains on (--stream train) or is checked on (--stream test);
or, with --embedding, the fixed embedding V (numpy seed(0) randn(K, d), unit rows) as a JSON array of rows.`;

const FLAGS: readonly FlagSpec[] = [
  ...TASK_FLAGS,
  { name: "n", type: "int", min: 1, max: 1_000_000, default: 4, help: "Number of examples." },
  { name: "stream", type: "string", choices: ["train", "test"], default: "train", help: "Which of the run's streams." },
  { name: "embedding", type: "boolean", help: "Print V instead of examples." },
];

await cliMain(() => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const K = f.K as number, M = f.M as number, L = f.L as number, tau = f.tau as number;
  if (f.embedding) {
    const d = f.d as number, V = embedding(K, d);
    const rows = Array.from({ length: K }, (_, k) => Array.from(V.subarray(k * d, k * d + d)));
    console.log(JSON.stringify(rows));
    return;
  }
  checkTask({ K, d: f.d as number, M, L, tau }); // cross-field limits, same messages as every other script
  const batch = arBatch(substream(f.seed as number, f.stream as string), { K, M, tau }, f.n as number, L);
  console.log(toJsonLines(batch).join("\n"));
});
