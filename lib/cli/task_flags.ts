/**
 * The AR task's flags (--K --d --M --L --tau --seed), shared by every script that takes a task on the command
 * line. Cross-field limits (M <= K, tau <= L-2) are checked by `resolve()` or the script itself.
 */
import type { FlagSpec } from "./flags.ts";

export const TASK_FLAGS: readonly FlagSpec[] = [
  { name: "K", type: "int", min: 2, max: 4096, default: 16, help: "Vocabulary size." },
  { name: "d", type: "int", min: 1, max: 1024, default: 8, help: "Embedding (model) dimension." },
  { name: "M", type: "int", min: 1, max: 4096, default: 1, help: "Number of queries (the first M tokens); at most K." },
  { name: "L", type: "int", min: 3, max: 4096, default: 64, help: "Sequence (training) length." },
  {
    name: "tau",
    type: "int",
    min: 1,
    max: 4094,
    default: 1,
    help: "Delay of the value after the first query; at most L-2.",
  },
  { name: "seed", type: "int", min: 0, max: 2 ** 32 - 1, default: 0, help: "Run seed (init, train and test streams)." },
];
