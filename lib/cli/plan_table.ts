/** `deno task plan`'s table for people: one row per run, then counts lines. */
import { type PlanCounts, type PlanRow, statusText } from "../store/plan.ts";

function seconds(s: number): string {
  return s < 10 ? s.toFixed(1) : s.toFixed(0);
}

/** "10 runs: 4 finished, 1 claimed, 5 pending; est. 12 s (7.1 s left)". */
export function countsText(c: PlanCounts): string {
  return `${c.runs} runs: ${c.finished} finished, ${c.claimed} claimed, ${c.pending} pending; est. ${
    seconds(c.estSeconds)
  } s (${seconds(c.estSecondsLeft)} s left)`;
}

/** The plan as a table for people. */
export function planTable(rows: readonly PlanRow[], total: number, count: number | null): string {
  const head = ["#", "key", "run", ...(count === null ? [] : ["shard"]), "est. s", "status"];
  const body = rows.map((r) => [
    String(r.index + 1),
    r.key,
    `${r.model} ${r.variant} seed ${r.seed}`.replace(/\s+/g, " "),
    ...(count === null ? [] : [r.shard === null ? "—" : `${r.shard}/${count}`]),
    seconds(r.estSeconds),
    statusText(r),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const right = new Set([0, head.indexOf("est. s")]);
  const line = (cells: string[]) =>
    cells.map((x, c) => c === cells.length - 1 ? x : right.has(c) ? x.padStart(width[c]) : x.padEnd(width[c]))
      .join("  ");
  return [line(head), ...body.map(line)].join("\n") + `\n(${rows.length} of ${total} planned runs listed)`;
}

/** One line of the cost table: the runs of one model at one width and budget in one problem. */
export interface CostRow {
  readonly problem: string;
  readonly model: string;
  readonly d: number;
  readonly settings: string;
  readonly runs: number;
  readonly budget: number;
  readonly stepMs: number;
  readonly seconds: number;
}

function hours(s: number): string {
  return (s / 3600).toFixed(2);
}

/** The cost table for people: a row per model, width and budget of each problem, then totals. */
export function costTable(rows: readonly CostRow[], jobs: number): string {
  const head = ["problem", "model", "d", "settings", "runs", "budget", "ms/step", "hours (1 core)"];
  const body = rows.map((r) => [
    r.problem,
    r.model,
    String(r.d),
    r.settings,
    String(r.runs),
    r.budget.toLocaleString("en-US"),
    r.stepMs.toFixed(1),
    hours(r.seconds),
  ]);
  const width = head.map((h, c) => Math.max(h.length, ...body.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((x, c) => (c >= 4 ? x.padStart(width[c]) : x.padEnd(width[c]))).join("  ");
  const byProblem = new Map<string, number>();
  for (const r of rows) byProblem.set(r.problem, (byProblem.get(r.problem) ?? 0) + r.seconds);
  const total = rows.reduce((s, r) => s + r.seconds, 0);
  return [
    line(head),
    ...body.map(line),
    "",
    ...[...byProblem].map(([p, s]) => `${p}: ${hours(s)} h on one core, ${hours(s / jobs)} h wall at --jobs ${jobs}`),
    `all: ${hours(total)} h on one core, ${hours(total / jobs)} h wall at --jobs ${jobs} ` +
    "(step times: revision-3 sweep medians at --jobs 2, lib/store/run_cost.ts; a run shared by two problems counted once)",
  ].join("\n");
}
