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
import { loadProblems } from "../problems/registry.ts";
import { parseProblemFlags, problemPlan } from "./problem.ts";
import { MAX_SHARDS, shardsOfPlan, shardText } from "../runs/shard.ts";
import { type PlanCounts, planCounts, planRows } from "../runs/plan.ts";
import { countsText, planTable } from "./plan_table.ts";

const USAGE = `deno task plan <problem> [flags]

The runs that \`deno task <problem>\` with the same flags would train, with their keys, shards, estimated seconds
(one core of this project's machine, at the base step cap) and status in <out>/<problem>/runs, then counts per
shard. Writes nothing. A table on a terminal, JSON lines when stdout is not one (or with --json).`;

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

await cliMain(async () => {
  const [id, ...argv] = Deno.args;
  const problems = await loadProblems();
  if (id === "--help" || id === "-h") {
    console.log(`${USAGE}\n\nProblems: ${problems.map((p) => p.id).join(", ")}; then the problem's flags.`);
    return;
  }
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
