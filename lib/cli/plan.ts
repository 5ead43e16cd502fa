/**
 * `deno task plan <problem> [problem flags] [--shards N] [--json]`: the runs that `deno task <problem>` with the
 * same flags would train, read from the (shared) output folder without writing anything: each run's key, shard,
 * estimated seconds and status (finished; copied from another problem; claimed, by whom and since when; a stale
 * claim; pending), then the counts per shard and in total. A table on a terminal, JSON lines otherwise (or with
 * --json). With --shard i/N it lists shard i and counts every shard of N; --shards N lists every run with its
 * shard: how far each machine of a sharded sweep is.
 */
import { join } from "node:path";
import { cliMain, type FlagSpec, UsageError } from "./flags.ts";
import { loadProblems } from "../site/pages.ts";
import { parseProblemFlags, problemPlan } from "./problem.ts";
import { MAX_SHARDS, shardsOfPlan, shardText } from "../store/shard.ts";
import { type PlanCounts, planCounts, planRows } from "../store/plan.ts";
import { type CostRow, costTable, countsText, planTable } from "./plan_table.ts";
import type { ProblemDefinition } from "../site/pages.ts";
import { type ExperimentConfig, resolve } from "../training/config.ts";
import { estimatedSeconds, stepMs } from "../store/run_cost.ts";

const USAGE = `deno task plan <problem> [flags]
deno task plan costs [--L 32|64] [--jobs N]

The runs that \`deno task <problem>\` with the same flags would train, with their keys, shards, estimated seconds
(one core of this project's machine, for the run's whole budget) and status in <out>/<problem>/runs, then counts per
shard. Writes nothing. A table on a terminal, JSON lines when stdout is not one (or with --json).
\`plan costs\` prints the cost table of every problem and the screens: runs, budget, step time and hours per model.`;

const PLAN_FLAGS: readonly FlagSpec[] = [
  {
    name: "shards",
    type: "int",
    min: 1,
    max: MAX_SHARDS,
    excludes: ["shard"],
    help: "List every run with its shard among N, and the counts of every shard (a sweep run as --shard i/N).",
  },
  { name: "json", type: "boolean", help: "JSON lines even on a terminal." },
];

/** `deno task plan costs`: every problem's runs at their budgets, grouped per model, width and budget. */
async function printCosts(problems: readonly ProblemDefinition[], argv: readonly string[]): Promise<void> {
  const parsed = parseProblemFlags(argv, USAGE, undefined, []);
  if (!parsed) return;
  const seen = new Set<string>();
  const rows: CostRow[] = [];
  for (const problem of [...problems].sort((a, b) => a.order - b.order)) {
    const settings = problem.defaultSeeds === undefined
      ? parsed.settings
      : { ...parsed.settings, seeds: Array.from({ length: problem.defaultSeeds }, (_, i) => i) };
    const plan = await problemPlan(problem, settings);
    const groups = new Map<string, { configs: ExperimentConfig[] }>();
    plan.jobs.forEach((job, i) => {
      if (seen.has(plan.keys[i])) return; // shared with a problem already counted (P3's d = 8 runs are P2's)
      seen.add(plan.keys[i]);
      const c = resolve(job.config);
      const id = `${c.model} ${c.d} ${c.steps}`;
      const g = groups.get(id) ?? { configs: [] };
      g.configs.push(job.config);
      groups.set(id, g);
    });
    for (const { configs } of groups.values()) {
      const cs = configs.map(resolve);
      const values = (f: "M" | "tau") => [...new Set(cs.map((c) => c[f]))].join(",");
      rows.push({
        problem: problem.id,
        model: cs[0].model,
        d: cs[0].d,
        settings: `M ${values("M")}, tau ${values("tau")}`,
        runs: cs.length,
        budget: cs[0].steps,
        stepMs: stepMs(cs[0]),
        seconds: configs.reduce((s, c) => s + estimatedSeconds(c), 0),
      });
    }
  }
  console.log(costTable(rows, parsed.settings.jobs));
}

await cliMain(async () => {
  const [id, ...argv] = Deno.args;
  const problems = await loadProblems();
  if (id === "--help" || id === "-h") {
    console.log(`${USAGE}\n\nProblems: ${problems.map((p) => p.id).join(", ")}; then the problem's flags.`);
    return;
  }
  if (id === "costs") return await printCosts(problems, argv);
  const problem = problems.find((p) => p.id === id);
  if (!problem) {
    throw new UsageError(`unknown problem ${JSON.stringify(id ?? "")}: one of ${problems.map((p) => p.id).join(", ")}`);
  }
  const parsed = parseProblemFlags(argv, USAGE.replace("<problem>", problem.id), problem.defaultSeeds, PLAN_FLAGS);
  if (!parsed) return;
  const { settings, values } = parsed;
  const plan = await problemPlan(problem, settings);
  const count = settings.shard?.count ?? (values.shards as number | undefined) ?? null;
  const shards = count === null ? null : shardsOfPlan(plan.jobs, plan.keys, count, plan.eligible);
  const dir = join(settings.out, problem.id);
  const eligible = plan.jobs.flatMap((_, i) => plan.eligible[i] ? [i] : []);
  const reuse = problems.filter((p) => p.id !== problem.id).map((p) => ({
    id: p.id,
    runsDir: join(settings.out, p.id, "runs"),
  }));
  const rows = await planRows(plan.jobs, plan.keys, eligible, shards, dir, reuse);
  const listed = rows.filter((r) => plan.selected[r.index]);
  const perShard = count === null
    ? []
    : Array.from({ length: count }, (_, s) => ({ shard: s, ...planCounts(rows.filter((r) => r.shard === s)) }));
  const total = planCounts(rows);
  const json = values.json === true || !Deno.stdout.isTerminal();
  if (json) {
    const out: string[] = [];
    for (const r of listed) {
      out.push(JSON.stringify({
        kind: "run",
        index: r.index,
        key: r.key,
        model: r.model,
        variant: r.variant,
        seed: r.seed,
        shard: r.shard === null ? null : `${r.shard}/${count}`,
        estSeconds: Number(r.estSeconds.toFixed(2)),
        status: r.status,
        holder: r.holder,
        from: r.from,
      }));
    }
    const rounded = (c: PlanCounts) => ({
      ...c,
      estSeconds: Number(c.estSeconds.toFixed(2)),
      estSecondsLeft: Number(c.estSecondsLeft.toFixed(2)),
    });
    for (const s of perShard) out.push(JSON.stringify({ kind: "shard", ...rounded(s), shard: `${s.shard}/${count}` }));
    out.push(
      JSON.stringify({ kind: "total", problem: problem.id, dir, planned: plan.jobs.length, ...rounded(total) }),
    );
    console.log(out.join("\n"));
    return;
  }
  const scope = settings.shard !== null
    ? `shard ${shardText(settings.shard)}`
    : settings.only !== null
    ? `runs starting "${settings.only}"`
    : "every run";
  console.log(`${problem.id} in ${dir}: ${scope}`);
  console.log(planTable(listed, plan.jobs.length, count));
  for (const s of perShard) console.log(`shard ${s.shard}/${count}: ${countsText(s)}`);
  console.log(`total: ${countsText(total)}${eligible.length < plan.jobs.length ? " (--only)" : ""}`);
});
