/**
 * Findings: sentences computed from the numbers of a set of series, never written in advance. Each builder
 * returns sentences (or null when the data for it is missing), and each sentence carries its numbers:
 * accuracy at L, 2L and 3L, how far accuracy holds beyond L, steps to convergence, and how accuracy and speed
 * change with one setting (τ, M or d) while the others stay fixed.
 *
 * Thresholds: a model "holds" a length when its mean accuracy is at least HOLD (90%) at every evaluated
 * length from L up to it; EXACT (99%) is reported alongside.
 */
import { median } from "../stats/median.ts";
import { resolve, type ResolvedConfig } from "../training/config.ts";
import { fieldText, lengthText, listText, pct, points, seriesName, steps } from "./format.ts";
import { unfinishedTexts } from "./ending.ts";
import { caveatOf, compareAt, comparePoints } from "./comparison.ts";
import {
  convergenceOf,
  fieldOf,
  holdsUpTo,
  longestLength,
  pointAt,
  type Series,
  SETTING_FIELDS,
  type SettingField,
  shortDips,
  valuesOf,
} from "./series.ts";

/** Accuracy a model must keep at every length from L on to "hold" that length. */
export const HOLD = 0.9;
/** The stricter threshold reported alongside HOLD. */
export const EXACT = 0.99;

function cfg(s: Series): ResolvedConfig {
  return resolve(s.runs[0].config);
}

/** "100% at L = 32, 98% at 2L = 64 and 40% at 3L = 96" (lengths that were evaluated only). */
export function accuracyAtMultiples(s: Series): string {
  const parts: string[] = [];
  const seen = new Set<number>();
  for (const k of [1, 2, 3]) {
    const p = pointAt(s, k * s.L);
    if (p === null || seen.has(p.length)) continue;
    seen.add(p.length);
    parts.push(`${pct(p.mean)} at ${lengthText(p.length, s.L)}`);
  }
  return listText(parts);
}

/** How far accuracy holds beyond L, e.g. "stays ≥ 90% over the whole range to 3L = 96 (≥ 99% up to 70 (2.19L))". */
export function reachText(s: Series): string {
  const hold = holdsUpTo(s, HOLD);
  const exact = holdsUpTo(s, EXACT);
  const end = longestLength(s) ?? 3 * s.L;
  const atL = pointAt(s, s.L);
  if (hold === null) {
    return `it does not reach ${pct(HOLD)} even at the training length (${pct(atL?.mean ?? 0)} at L = ${s.L})`;
  }
  const exactText = exact === null
    ? `it is below ${pct(EXACT)} at L`
    : exact >= end
    ? `≥ ${pct(EXACT)} all the way`
    : exact === atL?.length
    ? `≥ ${pct(EXACT)} only up to L`
    : `≥ ${pct(EXACT)} up to ${lengthText(exact, s.L)}`;
  if (hold >= end) return `it stays ≥ ${pct(HOLD)} over the whole range to ${lengthText(end, s.L)} (${exactText})`;
  if (hold === atL?.length) {
    const next = s.curve.find((p) => p.length > hold);
    const drop = next === undefined ? "" : ` (${pct(next.mean)} at ${lengthText(next.length, s.L)})`;
    return `it falls below ${pct(HOLD)} right after L${drop}, so it does not generalise beyond L`;
  }
  return `it stays ≥ ${pct(HOLD)} up to ${lengthText(hold, s.L)} and then falls (${exactText})`;
}

function seedNote(s: Series): string {
  const n = s.evaluated.length;
  if (n <= 1) return "";
  const at3 = pointAt(s, 3 * s.L);
  const spread = at3 === null ? "" : `, min–max at ${lengthText(at3.length, s.L)}: ${pct(at3.min)}–${pct(at3.max)}`;
  return ` (mean of ${n} seeds${spread})`;
}

function statusNote(s: Series): string {
  const c = convergenceOf(s);
  const notes: string[] = [];
  if (c.diverged.length > 0) {
    notes.push(`${c.diverged.length} of ${s.runs.length} seeds diverged and are left out`);
  }
  notes.push(...unfinishedTexts(c.capped, s.runs.length));
  return notes.length === 0 ? "" : `; ${notes.join("; ")}`;
}

/** One sentence on a series: accuracy at L, 2L, 3L, its reach beyond L, dips below L, and how training ended. */
export function accuracySentence(s: Series, name: string): string {
  const c = convergenceOf(s);
  if (s.evaluated.length === 0) {
    const at = c.diverged.map((r) => steps(r.divergedStep ?? r.stepsRun));
    const who = s.runs.length === 1 ? name : `${name}: all ${s.runs.length} seeds`;
    return `${who} diverged (the training loss stopped being a finite number) at step ${
      listText(at)
    }, so there is no accuracy curve.`;
  }
  const dips = shortDips(s, HOLD);
  const dipText = dips !== null && (pointAt(s, s.L)?.mean ?? 0) >= HOLD
    ? `; below L it is under ${pct(HOLD)} at ${dips.count} shorter length${dips.count === 1 ? "" : "s"} (lowest ${
      pct(dips.worst.mean)
    } at ${dips.worst.length}), lengths it never saw in training either`
    : "";
  return `${name}: ${accuracyAtMultiples(s)}${seedNote(s)}; ${reachText(s)}${dipText}${statusNote(s)}.`;
}

/** Ranks the series by how far they hold ≥ 90% beyond L (which generalise, and how far). */
export function generalisationSummary(series: readonly Series[], nameFields: readonly SettingField[]): string | null {
  const ranked = series.filter((s) => s.evaluated.length > 0).map((s) => ({ s, hold: holdsUpTo(s, HOLD) }));
  if (ranked.length === 0) return null;
  ranked.sort((a, b) => (b.hold ?? 0) / b.s.L - (a.hold ?? 0) / a.s.L);
  const parts = ranked.map(({ s, hold }) => {
    const name = seriesName(s, nameFields);
    if (hold === null) return `${name} below ${pct(HOLD)} already at L`;
    if (hold === pointAt(s, s.L)?.length) return `${name} only up to L`;
    return `${name} up to ${lengthText(hold, s.L)}`;
  });
  const full = ranked.filter(({ s, hold }) => hold !== null && hold >= (longestLength(s) ?? Infinity));
  const fullText = full.length === 0
    ? `No model keeps ≥ ${pct(HOLD)} all the way to 3L.`
    : full.length === ranked.length
    ? `All of them keep ≥ ${pct(HOLD)} all the way to 3L.`
    : `Only ${listText(full.map(({ s }) => seriesName(s, nameFields)))} keep${full.length === 1 ? "s" : ""} ≥ ${
      pct(HOLD)
    } all the way to 3L.`;
  return `Length generalisation, ranked by the longest length up to which accuracy stays ≥ ${pct(HOLD)}: ${
    parts.join("; ")
  }. ${fullText}`;
}

/**
 * Technical readings that the numbers support: untrained positions, chance level, recurrence without positions.
 * `explained` holds the mechanisms already explained (by name) in earlier panels of the same chart, which are
 * not repeated; it is updated.
 */
export function interpretations(
  series: readonly Series[],
  nameFields: readonly SettingField[],
  explained: Set<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const s of series) {
    const c = cfg(s);
    const atL = pointAt(s, s.L);
    if (atL === null || atL.mean < HOLD) continue;
    const probe = pointAt(s, s.L + Math.max(1, Math.ceil(s.L / 8)));
    if (probe === null || probe.length <= s.L || probe.mean > atL.mean - 0.2) continue;
    const name = seriesName(s, nameFields);
    if (explained.has(`position:${s.model}`)) continue;
    explained.add(`position:${s.model}`);
    if (c.pe === "learned") {
      out.push(
        `${name} drops from ${pct(atL.mean)} at L = ${s.L} to ${pct(probe.mean)} at ${
          lengthText(probe.length, s.L)
        }: rows ${s.L + 1}–${c.maxLen} of its learned position table never received a gradient in training ` +
          `(all training sequences have length L), so beyond L it adds untrained vectors to the tokens (Remark 2).`,
      );
    } else if (c.pe === "rope") {
      out.push(
        `${name} drops from ${pct(atL.mean)} at L = ${s.L} to ${pct(probe.mean)} at ${
          lengthText(probe.length, s.L)
        }: beyond L its rotary phases reach query-key distances never seen in training, and the attention ` +
          `pattern that finds the earlier query no longer transfers.`,
      );
    }
  }
  const chance = series.filter((s) => {
    const p = pointAt(s, 3 * s.L);
    return p !== null && p.mean <= 1.5 / s.K;
  });
  if (chance.length > 0) {
    const K = chance[0].K;
    out.push(
      `At 3L, ${listText(chance.map((s) => `${seriesName(s, nameFields)} (${pct(pointAt(s, 3 * s.L)?.mean ?? 0)})`))} ${
        chance.length === 1 ? "is" : "are"
      } at chance level (1/K = ${pct(1 / K)}): the prediction no longer ` +
        `carries information about the value.`,
    );
  }
  const recurrent = series.filter((s) =>
    cfg(s).mixers[0] === "mamba" && s.evaluated.length > 0 && (holdsUpTo(s, HOLD) ?? 0) >= (longestLength(s) ?? 1) &&
    !explained.has(`scan:${s.model}`)
  );
  for (const s of recurrent) explained.add(`scan:${s.model}`);
  if (recurrent.length > 0) {
    out.push(
      `${listText(recurrent.map((s) => seriesName(s, nameFields)))} start${
        recurrent.length === 1 ? "s" : ""
      } with a Mamba layer and stay${recurrent.length === 1 ? "s" : ""} ≥ ${pct(HOLD)} to 3L: the selective ` +
        `scan applies the same input-dependent update at every position and has no position table, so nothing ` +
        `it learned is tied to lengths ≤ L.`,
    );
  }
  return out;
}

/** "step 400", "median step 400 [300–500] over 3 seeds", "not learned within 20,000 steps, plateaued at 18.8%", ... */
export function convergenceText(s: Series): string {
  const c = convergenceOf(s);
  const n = s.runs.length;
  const parts: string[] = [];
  if (c.convergedSteps.length === 1) parts.push(`step ${steps(c.convergedSteps[0])}`);
  if (c.convergedSteps.length > 1) {
    const lo = c.convergedSteps[0], hi = c.convergedSteps[c.convergedSteps.length - 1];
    const of = c.convergedSteps.length === n ? `${n} seeds` : `${c.convergedSteps.length} of ${n} seeds`;
    parts.push(`median step ${steps(median(c.convergedSteps))} [${steps(lo)}–${steps(hi)}] over ${of}`);
  }
  parts.push(...unfinishedTexts(c.capped, n));
  if (c.diverged.length > 0) {
    const who = c.diverged.length === n ? "" : `${c.diverged.length} of ${n} seeds `;
    parts.push(`${who}diverged at step ${listText(c.diverged.map((r) => steps(r.divergedStep ?? r.stepsRun)))}`);
  }
  return parts.join("; ");
}

function convergedRank(s: Series): number {
  const c = convergenceOf(s);
  return c.convergedSteps.length === s.runs.length ? median(c.convergedSteps) : Infinity;
}

/** Which series converge fastest: converged ones by (median) step, then those that did not, in words. */
export function convergenceSummary(series: readonly Series[], nameFields: readonly SettingField[]): string | null {
  if (series.length === 0) return null;
  const c0 = convergenceOf(series[0]);
  const batches = [...new Set(series.map((s) => cfg(s).batch))];
  const fast = series.filter((s) => convergedRank(s) < Infinity).sort((a, b) => convergedRank(a) - convergedRank(b));
  const slow = series.filter((s) => convergedRank(s) === Infinity);
  const rule = `≥ ${pct(c0.target)} on ${c0.patience} consecutive test-batch checks, training batch ${
    listText(batches.map(String))
  }`;
  const fastText = fast.length === 0
    ? `No setting converged (${rule})`
    : `Fastest to converge (${rule}): ${
      fast.map((s) => `${seriesName(s, nameFields)} at ${convergenceText(s)}`).join(", ")
    }`;
  const slowText = slow.length === 0
    ? ""
    : `; ${slow.map((s) => `${seriesName(s, nameFields)}: ${convergenceText(s)}`).join("; ")}`;
  let ratio = "";
  if (fast.length >= 2) {
    const a = convergedRank(fast[0]), b = convergedRank(fast[fast.length - 1]);
    if (a > 0) {
      ratio = ` The slowest converged setting needed ${Math.round((b / a) * 10) / 10}× the steps of the fastest.`;
    }
  }
  return `${fastText}${slowText}.${ratio}`;
}

/**
 * Series ranked best first by mean accuracy at k·L (k = 1 for L, 3 for 3L), with ">" where the rule of
 * lib/site/comparison.ts allows claiming the order and "then" where it does not (never "≈" between numbers that
 * differ), e.g. "hybrid 100% > tf-rope 72% then mamba 70% (tf-rope vs mamba: tf-rope higher on 2 of 3 seeds)".
 */
export function rankingText(series: readonly Series[], k: number, nameFields: readonly SettingField[]): string | null {
  const ranked = series
    .map((s) => ({ s, p: pointAt(s, k * s.L) }))
    .filter((x): x is { s: Series; p: NonNullable<ReturnType<typeof pointAt>> } => x.p !== null)
    .sort((a, b) => b.p.mean - a.p.mean);
  if (ranked.length === 0) return null;
  const caveats: string[] = [];
  let text = `${seriesName(ranked[0].s, nameFields)} ${pct(ranked[0].p.mean)}`;
  for (let i = 1; i < ranked.length; i++) {
    const prev = ranked[i - 1], cur = ranked[i];
    const names = [seriesName(prev.s, nameFields), seriesName(cur.s, nameFields)] as const;
    const caveat = caveatOf(comparePoints(prev.p, cur.p), names);
    if (caveat !== null) caveats.push(`${names[0]} vs ${names[1]}: ${caveat}`);
    text += ` ${caveat === null ? ">" : "then"} ${seriesName(cur.s, nameFields)} ${pct(cur.p.mean)}`;
  }
  return caveats.length === 0 ? text : `${text} (${caveats.join("; ")})`;
}

/** Median time per training step of each name (seeds and other settings pooled), fastest first. */
export function stepTimeSentence(series: readonly Series[], nameFields: readonly SettingField[]): string | null {
  const byName = new Map<string, number[]>();
  for (const s of series) {
    const list = byName.get(seriesName(s, nameFields)) ?? [];
    list.push(...s.runs.map((r) => r.timing.medianStepMs).filter((ms) => Number.isFinite(ms) && ms > 0));
    byName.set(seriesName(s, nameFields), list);
  }
  const timed = [...byName.entries()].filter(([, ms]) => ms.length > 0).map(([name, ms]) => ({ name, ms: median(ms) }))
    .sort((a, b) => a.ms - b.ms);
  if (timed.length === 0) return null;
  const round = (ms: number) => (ms >= 10 ? Math.round(ms) : Math.round(ms * 10) / 10);
  const ratio = timed.length > 1 && timed[0].ms > 0
    ? ` The slowest step is ${Math.round((timed[timed.length - 1].ms / timed[0].ms) * 10) / 10}× the fastest.`
    : "";
  return `Median wall time per training step on this machine: ${
    timed.map((t) => `${t.name} ${round(t.ms)} ms`).join(", ")
  }.${ratio}`;
}

function valueText(s: Series | undefined, length: (s: Series) => number): string {
  if (s === undefined) return "not run";
  if (s.evaluated.length === 0) return "diverged";
  const p = pointAt(s, length(s));
  return p === null ? "n/a" : pct(p.mean);
}

function shortConvergence(s: Series): string {
  const c = convergenceOf(s);
  if (c.convergedSteps.length === s.runs.length) return steps(median(c.convergedSteps));
  if (c.diverged.length === s.runs.length) return "diverged";
  if (c.capped.length === s.runs.length) {
    return c.capped.every((r) => r.verdict === "plateaued")
      ? `not learned within ${steps(c.cap)}`
      : `still improving at ${steps(c.cap)}`;
  }
  return `${c.convergedSteps.length} of ${s.runs.length} seeds`;
}

/** Series that share every setting except `field`, grouped; each group sorted by `field`. */
export function groupsAcross(series: readonly Series[], field: SettingField): Series[][] {
  const groups = new Map<string, Series[]>();
  for (const s of series) {
    const key = SETTING_FIELDS.filter((f) => f !== field).map((f) => `${f}=${fieldOf(s, f)}`).join(" ");
    const list = groups.get(key) ?? [];
    list.push(s);
    groups.set(key, list);
  }
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort((a, b) => (fieldOf(a, field) as number) - (fieldOf(b, field) as number)));
}

/** The name fields of groups compared across `field`: the model and whatever else varies among them. */
function groupNameFields(series: readonly Series[], field: SettingField): SettingField[] {
  return ["model", ...SETTING_FIELDS.filter((f) => f !== "model" && f !== field && valuesOf(series, f).length > 1)];
}

/**
 * The effect of one setting: for every group of series equal in all else, accuracy at L and 3L and the steps
 * to convergence as the setting changes, e.g. "mamba, M = 4 → M = 16: accuracy at L = 32 100% → 61%, ...".
 */
export function effectSentences(series: readonly Series[], field: SettingField): string[] {
  const names = groupNameFields(series, field);
  return groupsAcross(series, field).map((group) => {
    const s0 = group[0];
    const change = group.map((s) => fieldText(field, fieldOf(s, field))).join(" → ");
    const last = group[group.length - 1];
    const at = (length: (s: Series) => number) => {
      const values = group.map((s) => valueText(s, length)).join(" → ");
      const c = compareAt(s0, last, length(s0));
      const pair = [fieldText(field, fieldOf(s0, field)), fieldText(field, fieldOf(last, field))] as const;
      const caveat = c === null ? null : caveatOf(c, pair);
      return caveat === null ? values : `${values} (${pair[0]} vs ${pair[1]}: no clear difference, ${caveat})`;
    };
    return `${seriesName(s0, names)}, ${change}: accuracy at L = ${s0.L} ${at((s) => s.L)}, at 3L = ${3 * s0.L} ${
      at((s) => 3 * s.L)
    }; steps to converge ${group.map((s) => shortConvergence(s)).join(" → ")}.`;
  });
}

/**
 * The average change, from the smallest to the largest value of `field`, of accuracy at L and at 3L over the
 * groups that have both (diverged ones left out), and the group that changes most.
 */
export function effectSummary(series: readonly Series[], field: SettingField): string | null {
  const names = groupNameFields(series, field);
  const pairs = groupsAcross(series, field)
    .map((g) => ({ a: g[0], b: g[g.length - 1] }))
    .filter(({ a, b }) => a.evaluated.length > 0 && b.evaluated.length > 0);
  if (pairs.length === 0) return null;
  const delta = (length: (s: Series) => number) =>
    pairs.map(({ a, b }) => (pointAt(b, length(b))?.mean ?? 0) - (pointAt(a, length(a))?.mean ?? 0));
  const atL = delta((s) => s.L), at3 = delta((s) => 3 * s.L);
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  let largest = 0;
  for (let i = 1; i < pairs.length; i++) if (Math.abs(at3[i]) > Math.abs(at3[largest])) largest = i;
  const from = fieldText(field, fieldOf(pairs[0].a, field)), to = fieldText(field, fieldOf(pairs[0].b, field));
  const across = pairs.length === 1 ? "" : ` on average over ${pairs.length} settings`;
  const most = pairs.length === 1 || at3[largest] === 0
    ? ""
    : ` The largest ${at3[largest] < 0 ? "drop" : "gain"} at 3L is ${seriesName(pairs[largest].a, names)}'s (${
      points(at3[largest])
    }).`;
  const clear = (length: (s: Series) => number) =>
    pairs.filter(({ a, b }) => compareAt(a, b, length(a))?.winner !== "tie").length;
  const unclear = [["L", clear((s) => s.L)], ["3L", clear((s) => 3 * s.L)]]
    .filter(([, n]) => n !== pairs.length)
    .map(([at, n]) => `${n} of ${pairs.length} changes at ${at}`);
  const clarity = unclear.length === 0
    ? ""
    : ` Only ${listText(unclear)} hold for every seed beyond the 95% intervals; the rest are within ` +
      `the noise.`;
  return `Going from ${from} to ${to} changes accuracy at L by ${points(mean(atL))} and at 3L by ${
    points(mean(at3))
  }${across}.${most}${clarity}`;
}

/**
 * What d changes inside Mamba, from the configs: the recurrent state size e × n per layer, and whether K random
 * unit embeddings fit orthogonally into d dimensions.
 */
export function stateSizeSentence(series: readonly Series[]): string | null {
  const mambas = series.filter((s) => cfg(s).mixers.includes("mamba"));
  const ds = valuesOf(mambas, "d") as number[];
  if (ds.length < 2) return null;
  const byD = ds.map((d) => cfg(mambas.find((s) => s.d === d) as Series));
  const sizes = byD.map((c) =>
    `${c.mambaInner} × ${c.mambaState} = ${steps(c.mambaInner * c.mambaState)} at d = ${c.d}`
  );
  const K = byD[0].K;
  const crowded = byD.filter((c) => c.K > c.d).map((c) => c.d);
  const room = byD.filter((c) => c.K <= c.d).map((c) => c.d);
  const embed = crowded.length > 0 && room.length > 0
    ? ` With K = ${K} tokens, random unit embeddings in d = ${
      listText(crowded.map(String))
    } dimensions cannot all be orthogonal (K > d), so tokens interfere in the state; at d = ${
      listText(room.map(String))
    } there is room for K nearly orthogonal directions.`
    : "";
  return `d sets Mamba's inner width e = 2d, and with it the recurrent state each layer carries along the ` +
    `sequence, e × n numbers: ${listText(sizes)}.${embed}`;
}
