/** `deno task plan`'s table for people: one row per run, then counts lines. */
import { type PlanCounts, type PlanRow, statusText } from "../runs/plan.ts";

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
