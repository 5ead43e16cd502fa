/**
 * The probes on the problem pages: `probeParts(results, dir)` reads the probe files of a problem's runs
 * (`<dir>/runs/<key>.probe.json`, written by `deno task probe`) and returns report Parts for the runs that
 * have one, or none at all; each page appends them after its own parts (lib/site/write.ts). Figures come
 * from probe_charts.ts; the findings under them only quote the probes' numbers.
 *
 * Glossary: L training length, i first query position, distance = (l-1) - i, tau delay.
 */
import { distanceSplit, shortSplit } from "./evidence.ts";
import { mean } from "../stats/mean.ts";
import type { ProblemResults, RunResult } from "../store/results.ts";
import type { ProbeResult } from "../probes/probe_run.ts";
import type { AttentionStats } from "../probes/attention_probe.ts";
import { groupSeries } from "./series.ts";
import { colorsOf } from "./charts.ts";
import { nameFieldsOf, type Part } from "./view.ts";
import { listText, pct, seriesName } from "./format.ts";
import { type HeatPanel, probeHeatmaps, type ProbeLine, probeLineChart } from "./probe_charts.ts";

/** A probed run with its legend name and colour. */
interface Probed {
  readonly run: RunResult;
  readonly probe: ProbeResult;
  /** The legend name: the setting's, with ", seed N" where the setting has several seeds. */
  readonly name: string;
  /** The setting's name alone (its seeds share it). */
  readonly setting: string;
  readonly color: string;
}

/** Heat maps show at most this many Mamba channels (the ones whose delta varies most). */
const MAX_CHANNELS = 16;

function lengthLabel(l: number, L: number): string {
  const k = l / L;
  return `length ${l} (${k === 1 ? "L" : `${k}L`})`;
}

function probedRuns(results: ProblemResults, probes: ReadonlyMap<string, ProbeResult>): Probed[] {
  const series = groupSeries(results.runs.filter((r) => probes.has(r.key)));
  const nameFields = nameFieldsOf(series, null);
  const colors = colorsOf({ series, nameFields });
  return series.flatMap((s) => {
    const base = seriesName(s, nameFields);
    return s.runs.map((run) => ({
      run,
      probe: probes.get(run.key)!,
      name: s.runs.length > 1 ? `${base}, seed ${run.config.seed}` : base,
      setting: base,
      color: colors.get(base)!,
    }));
  });
}

/**
 * Heat maps are drawn for the first MAP_SEEDS seeds of each setting; the lines and the numbers cover every seed. Maps
 * of all five seeds of Problem 1's ten probed settings made its probe page 5 MB, most of it cells.
 */
export const MAP_SEEDS = 1;

const mapNote = MAP_SEEDS === 1
  ? "Seed 0 of each setting (the other probes cover every seed)."
  : `Seeds 0 to ${MAP_SEEDS - 1} of each setting (the other probes cover every seed).`;

function mapped(p: Probed): boolean {
  return p.run.config.seed < MAP_SEEDS;
}

function distancePart(id: string, runs: readonly Probed[]): Part {
  const lines: ProbeLine[] = runs.flatMap((p) =>
    p.probe.accuracy.byDistance.map((c) => ({
      name: p.name,
      color: p.color,
      facet: lengthLabel(c.length, p.run.config.L),
      points: c.at.map((x, k) => ({ x, y: c.accuracy[k] })),
    }))
  );
  const sentences = runs.flatMap((p) => {
    const L = p.run.config.L;
    const k = Math.max(...p.probe.lengths) / L; // the longest probed length, 3L
    const split = k > 1 ? distanceSplit(p, k) : null;
    if (split === null) return [];
    return [
      `${p.name}: in sequences of length ${k * L}, ${pct(split.near)} correct when the queries are at most L = ${L} ` +
      `apart, ${pct(split.far)} when they are further apart.`,
    ];
  });
  const samples = runs[0].probe.options.accuracySamples;
  return {
    id,
    title: "Probe: accuracy by the distance between the two queries",
    chart: () =>
      probeLineChart({
        id,
        lines,
        xLabel: "distance between the queries (positions)",
        yLabel: "accuracy",
        caption: `Accuracy of the trained model against the distance from the first query to the final one, at a ` +
          `fixed total length (one panel per length: L, 2L, 3L), ${samples} fresh sequences per point with the ` +
          `first query placed at that distance. Within one panel only the distance changes: a curve that falls ` +
          `with distance at a fixed length says the model loses the value with distance, a panel that is low ` +
          `everywhere says the length itself (positions never trained) breaks it.`,
      }),
    findings: sentences.length === 0 ? [] : [{ heading: null, sentences }],
    note: null,
  };
}

function queryPart(id: string, runs: readonly Probed[]): Part | null {
  const multi = runs.filter((p) => p.run.config.M > 1);
  if (multi.length === 0) return null;
  const lines: ProbeLine[] = multi.flatMap((p) =>
    p.probe.accuracy.byQuery.map((c) => ({
      name: p.name,
      color: p.color,
      facet: lengthLabel(c.length, p.run.config.L),
      points: c.at.map((x, k) => ({ x: x + 1, y: c.accuracy[k] })),
    }))
  );
  const sentences = multi.map((p) => {
    const atL = p.probe.accuracy.byQuery[0];
    const learned = atL.at.filter((_, k) => atL.accuracy[k] >= 0.9).map((q) => String(q + 1));
    return `${p.name}: ${learned.length} of ${p.run.config.M} queries at ≥ 90% at L` +
      (learned.length > 0 && learned.length < p.run.config.M ? ` (tokens ${listText(learned)})` : "") +
      `; per query ${pct(Math.min(...atL.accuracy))}–${pct(Math.max(...atL.accuracy))}.`;
  });
  return {
    id,
    title: "Probe: accuracy per query token (M > 1)",
    chart: () =>
      probeLineChart({
        id,
        lines,
        xLabel: "query token (1..M)",
        yLabel: "accuracy",
        caption:
          `Accuracy for each of the M query tokens (token k is the assignment's k; ${
            multi[0].probe.options.accuracySamples
          } sequences per query, first query uniform), one panel per length. A flat line means all queries were ` +
          `learned alike; a few high points among low ones mean the model learned only those queries.`,
      }),
    findings: [{ heading: null, sentences }],
    note: null,
  };
}

function shortPart(id: string, runs: readonly Probed[]): Part {
  const panels: HeatPanel[] = runs.map((p) => {
    const s = p.probe.accuracy.shortLengths;
    return {
      title: p.name,
      cells: s.lengths.flatMap((l, a) => s.positions.map((i, k) => ({ x: i, y: l, v: s.accuracy[a][k] }))),
    };
  });
  const sentences = runs.flatMap((p) => {
    const s = shortSplit(p);
    if (s === null) return [];
    return [
      `${p.name}: first query at position 0: ${pct(s.first)}; at positions ≥ 1: ${
        pct(s.rest)
      } (lengths ${s.from}–${s.to}).`,
    ];
  });
  return {
    id,
    title: "Probe: short sequences — accuracy by the first query's position",
    chart: () =>
      probeHeatmaps({
        id,
        panels,
        xLabel: "first query position i",
        yLabel: "length",
        scale: "unit",
        panelWidth: 240,
        panelHeight: 200,
        valueText: pct,
        caption:
          `Accuracy at the shortest lengths (rows) for every position of the first query (columns), ${
            runs[0].probe.options.accuracySamples
          } sequences per cell; darker is more accurate, blank cells do not fit the length. A dark diagonal band ` +
          `with a pale first column says the failures at short lengths come from queries at the very start ` +
          `(nothing before them for a previous-token head or the conv window to use); pale rows say the ` +
          `length itself is the problem.`,
      }),
    findings: sentences.length === 0 ? [] : [{ heading: null, sentences }],
    note: null,
  };
}

/** The head with the largest value of `score` at the first length. */
function bestHead(stats: readonly AttentionStats[], score: (s: AttentionStats) => number[]): number {
  const v = score(stats[0]);
  return v.indexOf(Math.max(...v));
}

function attentionParts(idBase: string, runs: readonly Probed[]): Part[] {
  const att = runs.filter((p) => p.probe.attention.length > 0);
  if (att.length === 0) return [];
  const scoreLines: ProbeLine[] = [];
  const positionLines: ProbeLine[] = [];
  const alignedPanels: HeatPanel[] = [];
  const finalPanels: HeatPanel[] = [];
  const sentences: string[] = [];
  const W = att[0].probe.options.window;
  for (const p of att) {
    const layers = p.probe.attention;
    const first = layers[0], last = layers[layers.length - 1];
    const lagHead = bestHead(first.byLength, (s) => s.lagTau);
    const indHead = bestHead(last.byLength, (s) => s.induction);
    const tau = p.run.config.tau, L = p.run.config.L;
    const lagName = `lag-${tau} score (layer ${first.layer}, head ${lagHead})`;
    scoreLines.push({
      name: p.name,
      color: p.color,
      facet: `lag-τ score, first attention layer, best head`,
      points: first.byLength.map((s) => ({ x: s.length, y: s.lagTau[lagHead] })),
    });
    scoreLines.push({
      name: p.name,
      color: p.color,
      facet: `induction score, last attention layer, best head`,
      points: last.byLength.map((s) => ({ x: s.length, y: s.induction[indHead] })),
    });
    const longest = first.byLength[first.byLength.length - 1];
    positionLines.push({
      name: p.name,
      color: p.color,
      facet: "",
      points: longest.lagByPosition[lagHead].flatMap((y, t) => (y === null ? [] : [{ x: t, y }])),
    });
    const fmt = (xs: number[]) => xs.map((v) => v.toFixed(2)).join(" → ");
    const side = 2 * W + 1;
    const copy = tau <= W // the value's row reading the first query: the copy step, positional or by content
      ? Math.max(...first.byLength[0].aligned.map((cells) => cells[(tau + W) * side + W] ?? 0))
      : null;
    const copyText = copy === null
      ? ""
      : `; at L the value's position gives the first query ${
        copy.toFixed(2)
      } of its weight (layer ${first.layer}, best head)`;
    sentences.push(
      `${p.name}: ${lagName} ${
        fmt(first.byLength.map((s) => s.lagTau[lagHead]))
      }, induction score (layer ${last.layer}, head ${indHead}) ${
        fmt(last.byLength.map((s) => s.induction[indHead]))
      } at lengths ${listText(first.byLength.map((s) => lengthLabel(s.length, L).replace("length ", "")))}${copyText}.`,
    );
    const shown = first === last // one attention layer (the Hybrid): only its induction head
      ? [[last, indHead, "induction head"] as const]
      : [[first, lagHead, "lag head"] as const, [last, indHead, "induction head"] as const];
    for (const [layer, head, what] of shown) {
      if (!mapped(p)) break;
      const s = layer.byLength[0];
      alignedPanels.push({
        title: `${p.name} · layer ${layer.layer} head ${head} (${what})`,
        cells: s.aligned[head].map((v, j) => ({ x: (j % (2 * W + 1)) - W, y: Math.floor(j / (2 * W + 1)) - W, v })),
      });
    }
    for (const s of mapped(p) ? [last.byLength[0], last.byLength[last.byLength.length - 1]] : []) {
      finalPanels.push({
        title: `${p.name} · ${lengthLabel(s.length, L)}`,
        cells: layers.flatMap((layer) => {
          const st = layer.byLength.find((x) => x.length === s.length)!;
          return st.finalRow.flatMap((row, h) => row.map((v, k) => ({ x: k - W, y: `L${layer.layer} h${h}`, v })));
        }),
        marks: layers.flatMap((layer) =>
          Array.from({ length: layer.heads }, (_, h) => ({ x: tau, y: `L${layer.layer} h${h}` }))
        ),
      });
    }
  }
  const samples = att[0].probe.options.traceSamples;
  return [
    {
      id: `${idBase}-scores`,
      title: "Probe: attention scores beyond the training length",
      chart: () =>
        probeLineChart({
          id: `${idBase}-scores`,
          lines: scoreLines,
          xLabel: "sequence length",
          yLabel: "mean attention weight",
          caption: `Left: the lag-τ score, the mean attention weight from each position t to t−τ (the previous ` +
            `token at τ = 1), of the best head of the first attention layer; right: the induction score, the ` +
            `weight from the final query to the value's position i+τ, of the best head of the last attention ` +
            `layer; at L, 2L and 3L, ${samples} sequences each. Scores near 1 are a clean circuit; falling ` +
            `scores beyond L show which half of it breaks.`,
        }),
      findings: [{ heading: null, sentences }],
      note: null,
    },
    {
      id: `${idBase}-positions`,
      title: "Probe: the lag-τ head position by position",
      chart: () =>
        probeLineChart({
          id: `${idBase}-positions`,
          lines: positionLines,
          xLabel: "position t",
          yLabel: "weight from t to t−τ",
          rules: [{ facet: "", x: att[0].run.config.L, label: "L" }],
          caption: `The best lag-τ head's weight from t to t−τ at every position t of sequences of length 3L. ` +
            `With learned positions the rows beyond L (vertical line) were never trained, so a sharp drop at L ` +
            `is the position table; a slow decline is dilution over more keys or RoPE angles never seen.`,
        }),
      findings: [],
      note: null,
    },
    {
      id: `${idBase}-aligned`,
      title: "Probe: attention patterns aligned on the first query (at L)",
      chart: () =>
        probeHeatmaps({
          id: `${idBase}-aligned`,
          panels: alignedPanels,
          xLabel: "key offset from first query",
          yLabel: "query offset",
          scale: "unit",
          panelWidth: 230,
          panelHeight: 230,
          valueText: (v) => v.toFixed(3),
          caption:
            `${mapNote} Mean attention weight from position i+r (rows, r = −${W}..${W}) to key i+c (columns) around ` +
            `the first query i, at length L, for the best lag-τ head of the first attention layer and the best ` +
            `induction head of the last. A previous-token head is a dark diagonal one step left of the main ` +
            `one (τ steps at delay τ); the value's row (r = τ) reading the query (c = 0) is the copy step.`,
        }),
      findings: [],
      note: null,
    },
    {
      id: `${idBase}-final`,
      title: "Probe: where the final query looks",
      chart: () =>
        probeHeatmaps({
          id: `${idBase}-final`,
          panels: finalPanels,
          xLabel: "key offset from first query",
          yLabel: "layer, head",
          scale: "unit",
          panelWidth: 260,
          panelHeight: 34 + 16 * att[0].probe.attention.length * att[0].probe.attention[0].heads,
          valueText: (v) => v.toFixed(3),
          caption:
            `${mapNote} The final query's attention weight on the keys around the first query (offset 0 = i; red box: ` +
            `the value at i+τ), per layer and head, at L and at 3L. An induction head puts its weight in the ` +
            `red box; at 3L the same head spreading its weight elsewhere is where recall breaks.`,
        }),
      findings: [],
      note: null,
    },
  ];
}

/** A step size in a few characters: 0.0123 or 5.3e-6. */
function deltaText(v: number): string {
  return v >= 1e-3 ? v.toPrecision(3) : v.toExponential(1);
}

/** The channels whose values vary most across `rows` (each row one channel), at most MAX_CHANNELS, in order. */
function liveChannels(rows: readonly (readonly (number | null)[])[]): number[] {
  const spread = rows.map((r, ch) => {
    const v = r.filter((x): x is number => x !== null);
    return { ch, s: v.length === 0 ? 0 : Math.max(...v) - Math.min(...v) };
  });
  return spread.sort((a, b) => b.s - a.s).slice(0, MAX_CHANNELS).map((x) => x.ch).sort((a, b) => a - b);
}

function mambaParts(idBase: string, runs: readonly Probed[]): Part[] {
  const mam = runs.filter((p) => p.probe.mamba.length > 0);
  if (mam.length === 0) return [];
  const W = mam[0].probe.options.window;
  const aligned: HeatPanel[] = [];
  const examples: HeatPanel[] = [];
  const retention: ProbeLine[] = [];
  const sentences: string[] = [];
  for (const p of mam) {
    const tau = p.run.config.tau, L = p.run.config.L;
    for (const m of p.probe.mamba) {
      const s = m.byLength[0];
      const chans = liveChannels(s.alignedDelta);
      if (mapped(p)) {
        aligned.push({
          title: `${p.name} · layer ${m.layer}`,
          cells: chans.flatMap((ch) => s.alignedDelta[ch].map((v, k) => ({ x: k - W, y: ch, v }))),
          marks: chans.flatMap((ch) => [{ x: 0, y: ch }, { x: tau, y: ch }]),
        });
        const ex = m.example;
        const exChans = liveChannels(ex.delta);
        examples.push({
          title: `${p.name} · layer ${m.layer}`,
          cells: exChans.flatMap((ch) => ex.delta[ch].map((v, t) => ({ x: t, y: ch, v }))),
          marks: exChans.flatMap((ch) =>
            [ex.firstQuery, ex.firstQuery + tau, ex.length - 1].map((x) => ({ x, y: ch }))
          ),
        });
      }
      const longest = m.byLength[m.byLength.length - 1];
      retention.push({
        name: p.name,
        color: p.color,
        facet: `layer ${m.layer}`,
        points: longest.distances.map((x, k) => ({ x, y: longest.retentionMax[k] })),
      });
      const near = mean(longest.retentionMax.filter((_, k) => longest.distances[k] <= L));
      const far = mean(longest.retentionMax.filter((_, k) => longest.distances[k] > 2 * L));
      sentences.push(
        `${p.name}, layer ${m.layer}: mean delta ${s.meanDelta.toPrecision(2)} at L; best channel keeps ${
          near === null ? "—" : pct(near)
        } of the value's write over distances ≤ L and ${far === null ? "—" : pct(far)} beyond 2L.`,
      );
    }
  }
  return [
    {
      id: `${idBase}-delta`,
      title: "Probe: Mamba step sizes around the first query (at L)",
      chart: () =>
        probeHeatmaps({
          id: `${idBase}-delta`,
          panels: aligned,
          xLabel: "offset from first query",
          yLabel: "channel",
          scale: "log",
          panelWidth: 240,
          panelHeight: 240,
          valueText: deltaText,
          caption:
            `${mapNote} Mean step size delta = softplus(dt) per channel (rows; the ${MAX_CHANNELS} channels whose delta ` +
            `varies most) at offsets from the first query (red boxes: the query at 0 and the value at τ), at ` +
            `length L. Log colour scale over the 2nd to 98th percentile of the values (cells beyond it take its end colours): bright is a large step (the state is overwritten by the current token), ` +
            `dark a small one (the state is held). Channels that brighten at the value and stay dark after it ` +
            `are the ones that store it.`,
        }),
      findings: [{ heading: null, sentences }],
      note: null,
    },
    {
      id: `${idBase}-delta-example`,
      title: "Probe: Mamba step sizes along one sequence",
      chart: () =>
        probeHeatmaps({
          id: `${idBase}-delta-example`,
          panels: examples,
          xLabel: "position",
          yLabel: "channel",
          scale: "log",
          panelWidth: 460,
          panelHeight: 240,
          valueText: deltaText,
          caption:
            `${mapNote} delta per channel across the positions of one test sequence of length L (red boxes: the first ` +
            `query, the value and the final query). Where a channel opens (bright) and closes (dark) its state. Log ` +
            `colour scale over the 2nd to 98th percentile of the values.`,
        }),
      findings: [],
      note: null,
    },
    {
      id: `${idBase}-retention`,
      title: "Probe: how much of the value survives to the final query",
      chart: () =>
        probeLineChart({
          id: `${idBase}-retention`,
          lines: retention,
          xLabel: "distance between the queries",
          yLabel: "retention, best channel",
          caption: `exp(A·Σ delta) from the value's position to the final query, for the slowest state of each ` +
            `channel, best channel, mean over sequences of length 3L at each distance (one panel per Mamba layer): ` +
            `the fraction of the value's write that is still in the state when it is needed. 100% means the ` +
            `state held it perfectly; a decline with distance is forgetting.`,
        }),
      findings: [],
      note: null,
    },
  ];
}

function outsidePart(id: string, runs: readonly Probed[]): Part | null {
  const probed = runs.filter((p) => p.probe.outsideQueries != null);
  if (probed.length === 0) return null;
  const settings = [...new Set(probed.map((p) => p.setting))];
  const lines: ProbeLine[] = [];
  const sentences: string[] = [];
  for (const setting of settings) {
    const seeds = probed.filter((p) => p.setting === setting);
    const o0 = seeds[0].probe.outsideQueries!, L = seeds[0].run.config.L;
    const at = (which: "usual" | "outside", j: number) => mean(seeds.map((p) => p.probe.outsideQueries![which][j]))!;
    const points = (which: "usual" | "outside") => o0.lengths.map((l, j) => ({ x: l / L, y: at(which, j) }));
    lines.push({ name: "training's fillers", color: "#888", facet: setting, points: points("usual") });
    lines.push({
      name: "fillers outside the query set",
      color: seeds[0].color,
      facet: setting,
      points: points("outside"),
    });
    sentences.push(
      `${setting} (${seeds.length} seed${seeds.length === 1 ? "" : "s"}): ` +
        o0.lengths.map((l, j) => `${lengthLabel(l, L)} ${pct(at("usual", j))} → ${pct(at("outside", j))}`).join(", ") +
        ".",
    );
  }
  return {
    id,
    title: "Probe: the other candidate queries as distractors (1 < M < K)",
    chart: () =>
      probeLineChart({
        id,
        lines,
        xLabel: "test length",
        yLabel: "accuracy",
        xTicks: [{ x: 1, label: "L" }, { x: 2, label: "2L" }, { x: 3, label: "3L" }],
        caption: `Accuracy on the same ${probed[0].probe.outsideQueries!.samples} sequences per length (query, value ` +
          `and their positions unchanged), mean over seeds: with the fillers drawn as in training, so that the other ` +
          `M − 1 candidate queries appear among them (grey), and with every filler replaced by a token outside the ` +
          `query set (colour). A gap means the other candidates are what the model trips on; no gap means the length ` +
          `itself.`,
      }),
    findings: [{ heading: null, sentences }],
    note: null,
  };
}

/** The probe Parts of a problem page: none when no run has a probe file. */
export function probeParts(results: ProblemResults, probes: ReadonlyMap<string, ProbeResult>): Part[] {
  if (probes.size === 0) return [];
  const runs = probedRuns(results, probes);
  const id = `${results.problem}-probe`;
  const parts: (Part | null)[] = [
    distancePart(`${id}-distance`, runs),
    queryPart(`${id}-query`, runs),
    outsidePart(`${id}-outside`, runs),
    shortPart(`${id}-short`, runs),
    ...attentionParts(`${id}-attention`, runs),
    ...mambaParts(`${id}-mamba`, runs),
  ];
  return parts.filter((p): p is Part => p !== null);
}
