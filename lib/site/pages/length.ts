/** The page of the length study, drawn from its results; the runs are set in studies/length/study.ts. */
import type { StudyPage, ViewContext } from "../view.ts";
import { glanceTable, rangeText } from "../glance.ts";
import { tablePart } from "../view.ts";
import type { RunResult } from "../../store/results.ts";
import type { LengthAccuracy } from "../../training/record.ts";
import { accuracyAt } from "../../store/results.ts";
import { groupSeries } from "../series.ts";
import { PAPER } from "../../../studies/length/study.ts";
import { wilsonInterval } from "../../stats/wilson.ts";
import { pct, steps } from "../format.ts";
import { modelSpec } from "../../models/model_table.ts";

/** Accuracy (mean [range] over seeds) at each power of two of tokens, per setting, as a Markdown table. */
export function powersTable(runs: readonly RunResult[]): string {
  const series = groupSeries(runs).filter((s) => s.evaluated.length > 0);
  const lengths = [
    ...new Set(series.flatMap((s) => s.evaluated.flatMap((r) => r.accuracyByLength.map((p) => p.length)))),
  ]
    .filter((n) => Number.isInteger(Math.log2(n)) && n >= 64).sort((a, b) => a - b);
  const head = ["model", "d", "L", "steps", ...lengths.map((n) => `2^${Math.log2(n)}`)];
  const rows = series.map((s) => [
    s.model,
    String(s.d),
    String(s.L),
    String(s.runs[0].config.steps),
    ...lengths.map((n) => rangeText(s.evaluated.flatMap((r) => accuracyAt(r, n) ?? []))),
  ]);
  return [head, head.map((_, i) => (i < 4 ? "---" : "--:")), ...rows].map((c) => `| ${c.join(" | ")} |`).join("\n");
}

/**
 * Accuracy from the checkpoints beyond the runs' own lengths (`deno task long-eval`), per setting and weights (final
 * or at 99%), mean [range] over the seeds that have them, as a Markdown table; null when none were evaluated.
 */
export function longTable(runs: readonly RunResult[], long: ViewContext["long"]): string | null {
  if (long === undefined || long.size === 0) return null;
  const series = groupSeries(runs);
  const lengths = [
    ...new Set([...long.values()].flatMap((e) => Object.values(e).flatMap((x) => x.lengths.map((p) => p.length)))),
  ]
    .sort((a, b) => a - b);
  const rows: string[][] = [];
  for (const s of series) {
    for (const which of ["converged", "final"] as const) {
      const evals = s.runs.flatMap((r) => long.get(r.key)?.[which] ?? []);
      if (evals.length === 0) continue;
      const at = (n: number) => rangeText(evals.flatMap((e) => e.lengths.find((p) => p.length === n)?.accuracy ?? []));
      rows.push([
        s.model,
        String(s.d),
        String(s.L),
        which === "final" ? "trained on" : "at 99%",
        `${evals.length}`,
        ...lengths.map(at),
      ]);
    }
  }
  const head = ["model", "d", "L", "weights", "seeds", ...lengths.map((n) => `2^${Math.log2(n)}`)];
  return [head, head.map((_, i) => (i < 5 ? "---" : "--:")), ...rows].map((c) => `| ${c.join(" | ")} |`).join("\n");
}

/** The paper's training length (Table 11: induction heads trained at 256 tokens). */
const PAPER_L = 256;

/** "97.3% [95.1–98.7%]": accuracy with its 95% Wilson interval over the sequences scored. */
function withInterval(a: LengthAccuracy): string {
  const { lo, hi } = wilsonInterval(Math.round(a.accuracy * a.samples), a.samples);
  return `${pct(a.accuracy)} [${pct(lo).replace("%", "")}–${pct(hi)}] (n = ${a.samples})`;
}

/**
 * The Mamba paper's induction-heads numbers beside ours at the same multiples of the training length: its three rows,
 * then each of our runs at the paper's setting (batch 8, L = 256), from the run's own evaluation up to 2^14 tokens and
 * from its final checkpoint's long evaluation beyond, with 95% Wilson intervals; "—" where not evaluated. Null when
 * no run has the paper's setting.
 */
export function paperTable(runs: readonly RunResult[], long: ViewContext["long"]): string | null {
  const ours = runs.filter((r) => r.config.L === PAPER_L && r.config.batch === 8);
  if (ours.length === 0) return null;
  const multiples = [...new Set(Object.values(PAPER).flatMap((row) => Object.keys(row).map(Number)))]
    .sort((a, b) => a - b);
  const head = ["", "trained", ...multiples.map((k) => `${k}x (2^${Math.log2(k * PAPER_L)})`)];
  const paperRows = Object.entries(PAPER).map(([name, row]) => [
    `paper: ${name}`,
    "256 tokens",
    ...multiples.map((k) => (row[k] === undefined ? "—" : pct(row[k]))),
  ]);
  const ourRows = ours.map((r) => {
    const beyond = long?.get(r.key)?.final?.lengths ?? [];
    const at = (n: number) => r.accuracyByLength.find((p) => p.length === n) ?? beyond.find((p) => p.length === n);
    return [
      `ours: ${modelSpec(r.config.model).label}, d = ${r.config.d}, seed ${r.config.seed}`,
      `${steps(r.config.steps)} steps, lr ${r.config.lr}`,
      ...multiples.map((k) => {
        const a = at(k * PAPER_L);
        return a === undefined ? "—" : withInterval(a);
      }),
    ];
  });
  return [head, head.map(() => "---"), ...paperRows, ...ourRows].map((c) => `| ${c.join(" | ")} |`).join("\n");
}

export const page: StudyPage = {
  view(results, context) {
    const beyond = longTable(results.runs, context.long);
    const paper = paperTable(results.runs, context.long);
    const parts = [
      ...(paper === null
        ? []
        : [tablePart("length-paper", "The paper's table beside ours", results.runs, () => paper)]),
      tablePart("length-powers", "Accuracy at every power of two", results.runs, powersTable),
      ...(beyond === null
        ? []
        : [tablePart("length-beyond", "Beyond 2^14, from the checkpoints", results.runs, () => beyond)]),
      tablePart("length-glance", "Accuracy at L, 2L, 3L", results.runs, glanceTable),
    ];
    return {
      howToRead: "The Mamba paper trains on induction heads at length 256 and reports Mamba at 100% to 2^20 tokens " +
        "while attention falls past 2x (MHA-RoPE 83.6% at 2x, 31.3% at 4x; MHA-Abs 58.6% at 2x). Each row here is " +
        "one setting, mean over seeds with their range in brackets, at every power of two the run was evaluated at.",
      parts,
      headline: `${results.runs.length} of ${results.planned} runs of the length study.`,
    };
  },
};
