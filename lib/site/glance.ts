/**
 * Results at a glance: one row per model and setting with its accuracy at L, 2L and 3L (mean over seeds and the
 * seeds' range), the steps to 99% and how many seeds converged, as a Markdown table (rendered by markdown.ts).
 * The first thing a homework shows, computed from the results like every number after it.
 */
import type { RunResult } from "../store/results.ts";
import { accuracyAt } from "../store/results.ts";
import { groupSeries, type Series, varyingFields } from "./series.ts";
import { fieldText, pct, steps } from "./format.ts";
import { modelSpec } from "../models/model_table.ts";
import { collapsed } from "../recipes/protocol.ts";

/** "97.3% [95–100%]", or one value when every seed agrees to the shown digit; "—" when no seed has one. */
export function rangeText(xs: readonly number[]): string {
  if (xs.length === 0) return "—";
  const lo = Math.min(...xs), hi = Math.max(...xs), mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return pct(lo) === pct(hi) ? pct(mean) : `${pct(mean)} [${pct(lo).replace("%", "")}–${pct(hi)}]`;
}

function stepsText(s: Series): string {
  const xs = s.runs.flatMap((r) => r.convergedStep === null ? [] : [r.convergedStep]).sort((a, b) => a - b);
  if (xs.length === 0) return "—";
  return xs.length === 1 || xs[0] === xs.at(-1) ? steps(xs[0]) : `${steps(xs[0])}–${steps(xs.at(-1)!)}`;
}

/** The glance table of `runs` as Markdown. */
export function glanceTable(runs: readonly RunResult[]): string {
  const series = groupSeries(runs);
  const fields = varyingFields(series, ["model"]);
  const head = ["model", ...fields.map((f) => fieldText(f, "").replace(" = ", "")), "at L", "at 2L", "at 3L"];
  const rows = series.map((s) => {
    const at = (k: number) => rangeText(s.evaluated.flatMap((r) => accuracyAt(r, k * r.config.L) ?? []));
    const converged = s.runs.filter((r) => r.convergedStep !== null).length;
    const fell = s.runs.filter((r) => r.convergedStep !== null && collapsed(r.history)).length;
    return [
      modelSpec(s.model).label,
      ...fields.map((f) => String(s[f])),
      at(1),
      at(2),
      at(3),
      stepsText(s),
      `${converged} of ${s.runs.length}${fell > 0 ? ` (${fell} then collapsed)` : ""}`,
    ];
  });
  const all = [[...head, "steps to 99%", "converged"], ...rows];
  const align = all[0].map((_, i) => (i === 0 ? "---" : "--:"));
  return [all[0], align, ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}
