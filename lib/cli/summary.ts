/**
 * `deno task summary`: a Markdown table of every finished run in <out>/pN/results.json (status, convergence step,
 * accuracy at L, 2L and 3L, time), for READMEs and notes.
 */
import { join } from "node:path";
import { checkProblemResults, type RunResult } from "../runs/results.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

const USAGE = `deno task summary [flags]

Print a Markdown table of the finished runs of each problem found in <out>.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "string", default: "reports", help: "Folder holding p1/, p2/, p3/." },
];

function at(r: RunResult, length: number): string {
  const a = r.accuracyByLength.find((p) => p.length === length);
  return a === undefined ? "—" : `${(100 * a.accuracy).toFixed(1)}%`;
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  for (const p of ["p1", "p2", "p3"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(join(f.out as string, p, "results.json"));
    } catch {
      continue;
    }
    const results = JSON.parse(text);
    checkProblemResults(results);
    console.log(
      `\n${p}: ${results.runs.length}/${results.planned} runs, wall ${(results.wallSeconds / 60).toFixed(1)} min\n`,
    );
    console.log("| model | d | M | tau | status | converged at | acc at L | 2L | 3L | train s | ms/step |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of results.runs) {
      const c = r.config;
      const status = r.status === "diverged" ? `diverged at ${r.divergedStep}` : r.status;
      console.log(
        `| ${c.model} | ${c.d} | ${c.M} | ${c.tau} | ${status} | ${r.convergedStep ?? "—"} | ${at(r, c.L)} | ` +
          `${at(r, 2 * c.L)} | ${at(r, 3 * c.L)} | ${r.timing.trainSeconds.toFixed(0)} | ${
            r.timing.medianStepMs.toFixed(1)
          } |`,
      );
    }
  }
});
