/**
 * `deno task summary`: a Markdown table of every finished run of each registered problem found in <out>
 * (status, convergence step, accuracy at L, 2L and 3L, time), for READMEs and notes.
 */
import { endingOf } from "../site/ending.ts";
import { glanceTable } from "../site/glance.ts";
import { accuracyAt, type RunResult } from "../store/results.ts";
import { loadProblems } from "../site/pages.ts";
import { readAllResults } from "../site/write.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";
import { runTime, runTimeText } from "../store/run_time.ts";

const USAGE = `deno task summary [flags]

Print a Markdown table of the finished runs of each problem found in <out>, each problem's wall time (its
sweeps' clock, resumed invocations included) and the runs' own time, and the same for all problems together
(a run two problems share counted once): the suite's cost where no single clock covers it.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
  {
    name: "glance",
    type: "boolean",
    help: "Print each problem's results at a glance instead (per model and setting: accuracy at L, 2L, 3L as mean " +
      "[range], steps to 99%, seeds converged), the table that opens its page and homework.",
  },
];

function at(r: RunResult, length: number): string {
  const a = accuracyAt(r, length);
  return a === null ? "—" : `${(100 * a).toFixed(1)}%`;
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const problems = await loadProblems();
  const all = await readAllResults(f.out as string, problems);
  if (all.size === 0) {
    throw new UsageError(
      `no results in ${f.out} (no <problem>/results.json or run files there; run deno task p1 first)`,
    );
  }
  const everyRun: RunResult[] = [];
  for (const p of problems) {
    const results = all.get(p.id);
    if (results === undefined) continue;
    if (f.glance === true) {
      console.log(`\n${p.id}: ${results.runs.length} of ${results.planned} runs\n\n${glanceTable(results.runs)}`);
      continue;
    }
    console.log(
      `\n${p.id}: ${results.runs.length}/${results.planned} runs, wall ${(results.wallSeconds / 60).toFixed(1)} min; ` +
        `${runTimeText(runTime(results.runs), 2)}\n`,
    );
    everyRun.push(...results.runs);
    console.log("| model | d | M | tau | status | converged at | acc at L | 2L | 3L | train s | ms/step |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of results.runs) {
      const c = r.config;
      const status = endingOf(r);
      console.log(
        `| ${c.model} | ${c.d} | ${c.M} | ${c.tau} | ${status} | ${r.convergedStep ?? "—"} | ${at(r, c.L)} | ` +
          `${at(r, 2 * c.L)} | ${at(r, 3 * c.L)} | ${r.timing.trainSeconds.toFixed(0)} | ${
            r.timing.medianStepMs.toFixed(1)
          } |`,
      );
    }
  }
  if (everyRun.length > 0 && f.glance !== true) console.log(`\nall problems: ${runTimeText(runTime(everyRun), 2)}`);
});
