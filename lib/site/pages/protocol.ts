/**
 * The page of the protocol study (the same runs stopped at 99% and trained on), drawn from its results; the runs are set in
 * studies/protocol/study.ts.
 */
import { ON_TO, STOPPED } from "../../../studies/protocol/study.ts";
import type { StudyPage } from "../view.ts";
import type { ProblemResults, RunResult } from "../../store/results.ts";
import { accuracyAt } from "../../store/results.ts";
import { upToThreeL } from "../series.ts";
import { emptyPart, type Part } from "../view.ts";
import { Plot, renderPlot } from "../plot_dom.ts";
import { escapeHtml, pct } from "../format.ts";
import { trainingFigure } from "../answer_figures.ts";
import { collapsed } from "../../recipes/protocol.ts";

/** The runs that were stopped or trained on (Problem 1's Mamba); the rest are the collapsed settings' runs. */
function isStoppedPair(r: RunResult): boolean {
  return r.variant === undefined || !r.variant.endsWith(" collapsed");
}

function label(stopped: boolean): string {
  return stopped ? "stopped at 99% (revision 2)" : `trained on to ${ON_TO.toLocaleString("en-US")} steps`;
}

function pairOf(results: ProblemResults, tau: number, seed: number): { stopped?: RunResult; on?: RunResult } {
  const runs = results.runs.filter((r) => isStoppedPair(r) && r.config.tau === tau && r.config.seed === seed);
  const byLen = [...runs].sort((a, b) => a.config.steps - b.config.steps);
  return byLen.length === 2 ? { stopped: byLen[0], on: byLen[1] } : {};
}

function chart(results: ProblemResults): string {
  const pairs = results.runs.filter(isStoppedPair);
  const rows = pairs.flatMap((r) => {
    const stopped = r.config.steps !== ON_TO;
    const panel = `τ = ${r.config.tau}, seed ${r.config.seed}`;
    return upToThreeL(r).map((p) => ({
      x: p.length,
      y: p.accuracy,
      panel,
      name: label(stopped),
      key: `${panel} ${stopped}`,
      title: `${panel}, ${label(stopped)} (step ${r.stepsRun}): length ${p.length}, ${pct(p.accuracy)}`,
    }));
  });
  const L = pairs[0].config.L;
  const svg = renderPlot({
    width: 900,
    height: 520,
    marginRight: 60,
    x: { type: "log", base: 2, label: "test length →" },
    y: { domain: [0, 1], label: "↑ accuracy", tickFormat: "%" },
    fx: { label: null },
    color: { domain: [label(true), label(false)], range: ["#f28e2b", "#3ca951"], legend: true },
    facet: {
      data: rows,
      x: (d: { panel: string }) => d.panel.split(",")[1],
      y: (d: { panel: string }) => d.panel.split(",")[0],
    },
    marks: [
      Plot.frame({ stroke: "#d0d0d0" }),
      Plot.ruleX([L], { stroke: "#333" }),
      Plot.ruleY([1 / pairs[0].config.K], { stroke: "#777", strokeDasharray: "4 3" }),
      Plot.lineY(rows, { x: "x", y: "y", z: "key", stroke: "name", strokeWidth: 1.5 }),
      Plot.dot(rows, { x: "x", y: "y", r: 2, fill: "name", fillOpacity: 0, title: "title" }),
    ],
  });
  const caption = `Problem 1's Mamba (d = 8, M = 1, L = ${L}), the same run twice per panel: trained to exactly the ` +
    `step where revision 2 stopped it, and trained on with the same batches to ${ON_TO.toLocaleString("en-US")} ` +
    `steps. Accuracy at every length τ+2 .. 3L on ${pairs[0].config.evalSamples} fresh sequences (2048 at L, ` +
    `2L, 3L); vertical line: L; dashed: chance 1/K.`;
  return `<figure id="protocol-stopped">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function findings(results: ProblemResults): string[] {
  return STOPPED.flatMap(({ tau, seed }) => {
    const { stopped, on } = pairOf(results, tau, seed);
    if (!stopped || !on) return [];
    const at = (r: RunResult, k: number) => pct(accuracyAt(r, k * r.config.L) ?? NaN);
    return [
      `τ = ${tau}, seed ${seed}: stopped at step ${stopped.stepsRun.toLocaleString("en-US")} it holds ${
        at(stopped, 2)
      } at 2L and ${at(stopped, 3)} at 3L; trained on to ${on.stepsRun.toLocaleString("en-US")} steps, ${
        at(on, 2)
      } and ${at(on, 3)}.`,
    ];
  });
}

/** The collapsed settings' runs: their training curves, and per run its best and its end. */
function collapsePart(results: ProblemResults): Part {
  const runs = results.runs.filter((r) => !isStoppedPair(r));
  const title = "Runs that learned the task and lost it";
  if (runs.length === 0) return emptyPart("protocol-collapse", title, "No finished runs yet.");
  const sentences = runs.map((r) => {
    const best = Math.max(...r.history.map((h) => h.accuracy));
    const bestAt = r.history.find((h) => h.accuracy === best)!.step;
    const end = r.history[r.history.length - 1];
    return `${r.config.model}, M = ${r.config.M}, lr ${r.config.lr}, seed ${r.config.seed}: ${pct(best)} from step ${
      bestAt.toLocaleString("en-US")
    }, ${pct(end.accuracy)} at step ${end.step.toLocaleString("en-US")} (loss ${end.loss.toPrecision(3)})` +
      (collapsed(r.history) ? ": collapsed." : ": did not collapse.");
  });
  return {
    id: "protocol-collapse",
    title,
    chart: () =>
      trainingFigure(
        "protocol-collapse",
        runs,
        "Problem 2's runs at the rate their screen chose first, which collapsed; the problem now trains the setting " +
          "at the next rate its screen ranks.",
      ),
    findings: [{ heading: null, sentences }],
    note: null,
  };
}

export const page: StudyPage = {
  view(results) {
    const stoppedRuns = results.runs.filter(isStoppedPair);
    const part: Part = stoppedRuns.length === 0
      ? emptyPart("protocol-stopped", "Stopped at 99% or trained on", "No finished runs yet.")
      : {
        id: "protocol-stopped",
        title: "Stopped at 99% or trained on",
        chart: () => chart(results),
        findings: [{ heading: null, sentences: findings(results) }],
        note: null,
      };
    return {
      howToRead: "Revision 2 stopped a run as soon as it held 99% on the held-out batch at the training length for " +
        "three checks, then measured how far beyond L it generalised. Each panel trains one of Problem 1's Mamba " +
        "runs twice from the same seed with the same batches: to the step where revision 2 stopped it (its result " +
        "is revision 2's) and on to a fixed budget. Below, the runs of a setting that collapsed at the rate its " +
        "screen chose: they reached 99% and later fell back to chance, which a half-budget screen cannot see.",
      parts: [part, collapsePart(results)],
      headline: `${results.runs.length} of ${results.planned} runs: the same Mamba runs stopped at 99% and trained on` +
        (stoppedRuns.length < results.runs.length
          ? `, and ${results.runs.length - stoppedRuns.length} runs that collapsed at their screened rate.`
          : "."),
    };
  },
};
