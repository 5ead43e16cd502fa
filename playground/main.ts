/// <reference lib="dom" />
/**
 * The playground page: settings (from and to the URL hash), the race (one worker per model), the live charts and
 * probes. This thread never trains: workers do (worker.ts), and every redraw waits for an animation frame.
 *
 * For tests the page exposes its live numbers on #status (`data-state`, `data-step`, `data-accuracy-at-l`, and
 * `data-running` of at most `data-slots` workers training at once) and
 * `globalThis.recallPlayground.runFiles()`: the run files of the finished models.
 */
import { MODEL_TABLE } from "../lib/models/model_table.ts";
import { runKey } from "../lib/store/run_key.ts";
import { checkProblemResults, checkRunResult, type RunResult } from "../lib/store/results.ts";
import {
  checkSettings,
  cliCommand,
  type FieldError,
  parseHash,
  type PlaygroundSettings,
  type RaceEntry,
  toHash,
} from "./settings.ts";
import { parseTokens, randomSequence, sequenceRoles } from "./sequence.ts";
import { lineChartSvg, rampColor, type Series } from "./charts.ts";
import type { FromWorker, LivePoint, ProbeView, ToWorker } from "./protocol.ts";

type LaneState = "starting" | "ready" | "running" | "paused" | "evaluating" | "done" | "error";

/** One model of the race and everything its worker has told. */
interface Lane {
  readonly entry: RaceEntry;
  readonly worker: Worker;
  state: LaneState;
  key: string;
  paramCount: number;
  checks: { step: number; loss: number; accuracy: number }[];
  lengths: { step: number; points: readonly LivePoint[] }[];
  stepsPerSecond: number | null;
  probe: ProbeView | null;
  result: RunResult | null;
  error: string | null;
  /** Messages for the worker while it waits for its turn to start (null once it has been sent "init"). */
  held: ToWorker[] | null;
  /** The worker's "init" message, sent when the lane before it has started (`startNext`). */
  readonly init: ToWorker;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>("settings");
const statusEl = $("status");
const FIELD_IDS = ["K", "d", "M", "L", "tau", "seed", "steps", "batch", "lr", "heads", "far", "probe"] as const;

let settings: PlaygroundSettings = parseHash(location.hash).settings;
let entries: RaceEntry[] = [];
let lanes: Lane[] = [];
let wasmBase64: string | null = null;
let workerUrl: string | null = null;
let sample: number[] = [];
let draws = 0;
let overlay: RunResult[] = [];
let overlayNote = "";
let frame = 0;
/** Each model's run key before its worker reports it; which cards show their command. */
const keys = new Map<string, string>();
const openDetails = new Set<string>();
/**
 * Workers that train at once under Play: one core is left to this page so that drawing never waits for one (at least
 * one worker). A race of more models takes turns of one held-out check each (Step's unit), round robin.
 */
const SLOTS = Math.max(1, (navigator.hardwareConcurrency || 2) - 1);
/** Play is on (not paused, not stepping). */
let playing = false;
/** The lanes training now under Play. */
const turn = new Set<Lane>();
let nextTurn = 0;

// ---------------------------------------------------------------------------------------------------------------
// Settings: form <-> settings <-> hash, checked by resolve()

function fillForm(s: PlaygroundSettings): void {
  for (const box of form.querySelectorAll<HTMLInputElement>("input[name=model]")) {
    box.checked = s.models.includes(box.value);
  }
  const values: Record<(typeof FIELD_IDS)[number], string> = {
    K: String(s.K),
    d: String(s.d),
    M: String(s.M),
    L: String(s.L),
    tau: String(s.tau),
    seed: String(s.seed),
    steps: String(s.steps),
    batch: String(s.batch),
    lr: s.lr === null ? "" : String(s.lr),
    heads: s.heads === null ? "" : String(s.heads),
    far: s.far,
    probe: String(s.probe),
  };
  for (const id of FIELD_IDS) $<HTMLInputElement>(`f-${id}`).value = values[id];
}

function readForm(): PlaygroundSettings {
  const models = [...form.querySelectorAll<HTMLInputElement>("input[name=model]")].filter((b) => b.checked)
    .map((b) => b.value);
  const text = (id: string) => $<HTMLInputElement>(`f-${id}`).value;
  // The same reading as a hash's: numbers where the text is one, else the text for resolve() to name.
  const params = new URLSearchParams();
  params.set("model", models.join(","));
  for (const id of FIELD_IDS) params.set(id, text(id));
  const parsed = parseHash(params.toString()).settings;
  return { ...parsed, models, sample: settings.sample, autorun: false };
}

function showErrors(errors: readonly FieldError[]): void {
  for (const el of document.querySelectorAll<HTMLElement>(".error")) {
    const field = el.dataset.errorFor ?? "";
    if (field === "sample" || field === "overlay") continue;
    el.textContent = errors.find((e) => e.field === field)?.message ?? "";
  }
}

/** Check the settings; show each refusal beside its field; returns whether a race may start. */
function applySettings(s: PlaygroundSettings): boolean {
  settings = s;
  history.replaceState(null, "", toHash(s));
  const checked = checkSettings(s);
  entries = checked.entries;
  keys.clear();
  fillKeys();
  chartsDirty = true;
  showErrors(checked.errors);
  if (checked.errors.length > 0) {
    setStatus("invalid", "Refused: " + checked.errors.map((e) => `${e.field}: ${e.message}`).join("; "));
  } else {
    setStatus("idle", `Ready: ${entries.map((e) => e.model).join(", ")}. Press Play.`);
    resetSample();
  }
  render();
  return checked.errors.length === 0;
}

form.addEventListener("input", () => {
  if (lanes.length === 0) applySettings(readForm());
});

// ---------------------------------------------------------------------------------------------------------------
// The sample sequence

function task() {
  const r = entries[0].resolved;
  return { K: r.K, M: r.M, tau: r.tau, L: r.L, seed: r.seed };
}

function resetSample(): void {
  if (entries.length === 0) return;
  const t = task();
  const error = $("sample").nextElementSibling as HTMLElement;
  error.textContent = "";
  if (settings.sample !== null) {
    const parsed = parseTokens(settings.sample, t, 3 * t.L);
    if ("tokens" in parsed) {
      setSample(parsed.tokens, false);
      return;
    }
    error.textContent = parsed.error;
  }
  setSample(randomSequence(t.seed, 0, t, t.L), false);
}

function setSample(tokens: number[], user: boolean): void {
  sample = tokens;
  $<HTMLInputElement>("sample").value = tokens.join(" ");
  if (user) {
    settings = { ...settings, sample: tokens.join(",") };
    history.replaceState(null, "", toHash(settings));
  }
  for (const lane of lanes) send(lane, { type: "sample", tokens });
}

$("sample").addEventListener("change", () => {
  if (entries.length === 0) return;
  const t = task();
  const error = $("sample").nextElementSibling as HTMLElement;
  const parsed = parseTokens($<HTMLInputElement>("sample").value, t, 3 * t.L);
  if ("error" in parsed) {
    error.textContent = parsed.error;
    return;
  }
  error.textContent = "";
  setSample(parsed.tokens, true);
});

for (const [id, times] of [["draw-l", 1], ["draw-2l", 2], ["draw-3l", 3]] as const) {
  $(id).addEventListener("click", () => {
    if (entries.length === 0) return;
    const t = task();
    draws++;
    ($("sample").nextElementSibling as HTMLElement).textContent = "";
    setSample(randomSequence(t.seed, draws, t, times * t.L), true);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The race

function send(lane: Lane, message: ToWorker): void {
  if (lane.state === "error") return;
  if (lane.held !== null) lane.held.push(message);
  else lane.worker.postMessage(message);
}

/**
 * Start the next lane not started yet: its worker decodes and compiles the WebAssembly and builds its model, which
 * takes a core for a while; started one after another, the workers leave the page's thread a core while they do.
 */
function startNext(): void {
  const lane = lanes.find((l) => l.held !== null);
  if (lane === undefined) return;
  const held = lane.held!;
  lane.held = null;
  lane.worker.postMessage(lane.init);
  for (const m of held) lane.worker.postMessage(m);
}

/** The inlined binary, still base64: each worker decodes its own copy off this thread. */
function wasmText(): string {
  wasmBase64 ??= ($("pg-wasm").textContent ?? "").trim();
  return wasmBase64;
}

function live(lane: Lane): boolean {
  return lane.state !== "done" && lane.state !== "error";
}

/** Under Play, fill the free slots: every live lane runs when they fit, else the next lanes in turn get one check. */
function grantTurns(): void {
  if (!playing) return;
  const waiting = lanes.filter(live);
  if (waiting.length <= SLOTS) {
    for (const lane of waiting) {
      if (!turn.has(lane) || lane.state === "paused") send(lane, { type: "play" });
      turn.add(lane);
    }
    return;
  }
  while (turn.size < SLOTS) {
    const order = lanes.map((_, k) => lanes[(nextTurn + k) % lanes.length]); // round robin from the next in turn
    const lane = order.find((l) => live(l) && !turn.has(l));
    if (lane === undefined) return;
    turn.add(lane);
    send(lane, { type: "step" });
    nextTurn = (lanes.indexOf(lane) + 1) % lanes.length;
  }
}

function play(): void {
  playing = true;
  turn.clear();
  grantTurns();
}

function stopPlaying(): void {
  playing = false;
  turn.clear();
}

function startRace(first: "play" | "step"): void {
  if (lanes.length > 0 || entries.length === 0) return;
  workerUrl ??= URL.createObjectURL(new Blob([$("pg-worker").textContent ?? ""], { type: "text/javascript" }));
  $<HTMLFieldSetElement>("settings-fields").disabled = true;
  const probeEvery = settings.probe as number;
  lanes = entries.map((entry) => {
    const worker = new Worker(workerUrl!);
    const lane: Lane = {
      entry,
      worker,
      state: "starting",
      key: "",
      paramCount: 0,
      checks: [],
      lengths: [],
      stepsPerSecond: null,
      probe: null,
      result: null,
      error: null,
      held: [],
      init: { type: "init", config: entry.config, wasmBase64: wasmText(), probeEvery, sample },
    };
    worker.onmessage = (e: MessageEvent<FromWorker>) => receive(lane, e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      lane.state = "error";
      lane.error = e.message || "the worker failed to start";
      startNext();
      render();
    };
    if (first === "step") lane.held!.push({ type: "step" });
    return lane;
  });
  startNext();
  if (first === "play") play();
  render();
}

function receive(lane: Lane, m: FromWorker): void {
  switch (m.type) {
    case "ready":
      lane.key = m.key;
      lane.paramCount = m.paramCount;
      if (lane.state === "starting") lane.state = "ready";
      startNext();
      break;
    case "check":
      lane.checks.push({ step: m.step, loss: m.loss, accuracy: m.accuracy });
      lane.stepsPerSecond = m.stepsPerSecond;
      chartsDirty = true;
      break;
    case "lengths":
      lane.lengths.push({ step: m.step, points: m.points });
      chartsDirty = true;
      break;
    case "probe":
      lane.probe = m.probe;
      break;
    case "state":
      lane.state = m.state;
      if (m.state === "paused" && playing && turn.delete(lane)) grantTurns(); // its turn ended at a check
      break;
    case "done":
      checkRunResult(m.result);
      lane.result = m.result;
      chartsDirty = true;
      lane.state = "done";
      turn.delete(lane);
      grantTurns();
      break;
    case "error":
      lane.state = "error";
      lane.error = m.message;
      startNext();
      turn.delete(lane);
      grantTurns();
      break;
  }
  render();
}

$("play").addEventListener("click", () => {
  if (lanes.length === 0) startRace("play");
  else play();
});
$("pause").addEventListener("click", () => {
  stopPlaying();
  for (const lane of lanes) send(lane, { type: "pause" });
});
$("step").addEventListener("click", () => {
  stopPlaying();
  if (lanes.length === 0) startRace("step");
  else for (const lane of lanes) send(lane, { type: "step" });
});
$("reset").addEventListener("click", () => {
  stopPlaying();
  for (const lane of lanes) lane.worker.terminate();
  lanes = [];
  $<HTMLFieldSetElement>("settings-fields").disabled = false;
  applySettings(readForm());
});

// ---------------------------------------------------------------------------------------------------------------
// Overlay: a committed results.json (or one run file), its runs of this task drawn dashed

$("overlay").addEventListener("change", async () => {
  const input = $<HTMLInputElement>("overlay");
  const error = input.parentElement!.nextElementSibling as HTMLElement;
  error.textContent = "";
  const file = input.files?.[0];
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    let runs: readonly RunResult[];
    let source: string;
    if (data !== null && typeof data === "object" && "runs" in data) {
      checkProblemResults(data);
      runs = data.runs;
      source = `${file.name} (${data.problem}, ${data.runs.length} runs)`;
    } else {
      checkRunResult(data);
      runs = [data];
      source = file.name;
    }
    overlay = [...runs];
    overlayNote = source;
    chartsDirty = true;
  } catch (e) {
    error.textContent = `not a results file: ${(e as Error).message}`;
  }
  render();
});

/** The overlay's runs of the race's task (K, d, M, L, tau) and models. */
function overlayRuns(): RunResult[] {
  if (entries.length === 0) return [];
  const r = entries[0].resolved;
  const models = new Set<string>(entries.map((e) => e.model));
  return overlay.filter((o) =>
    o.config.K === r.K && o.config.d === r.d && o.config.M === r.M && o.config.L === r.L && o.config.tau === r.tau &&
    models.has(o.config.model)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing: at most once per animation frame

/** The fewest milliseconds between two redraws: workers report often, and a redraw needs a layout. */
const REDRAW_MS = 150;
let lastDraw = 0;

function render(): void {
  if (frame !== 0) return;
  frame = -1; // a redraw is scheduled
  setTimeout(() => requestAnimationFrame(draw), Math.max(0, lastDraw + REDRAW_MS - performance.now()));
}

function draw(): void {
  frame = 0;
  lastDraw = performance.now();
  drawStatus();
  drawCards();
  drawCharts();
  drawInside();
}

function setStatus(state: string, text: string): void {
  statusEl.dataset.state = state;
  statusEl.textContent = text;
}

function pct(a: number | null | undefined): string {
  return a === null || a === undefined ? "–" : `${(100 * a).toFixed(1)}%`;
}

/** The latest accuracy at L a lane has: its final evaluation's once done, else its last held-out check. */
function accuracyAtL(lane: Lane): number | null {
  const L = lane.entry.resolved.L;
  const final = lane.result?.accuracyByLength.find((a) => a.length === L);
  if (final) return final.accuracy;
  return lane.checks.length === 0 ? null : lane.checks[lane.checks.length - 1].accuracy;
}

function drawStatus(): void {
  if (lanes.length === 0) return;
  const step = Math.min(...lanes.map((l) => (l.checks.length === 0 ? 0 : l.checks[l.checks.length - 1].step)));
  const accs = lanes.map(accuracyAtL);
  const minAcc = accs.some((a) => a === null) ? null : Math.min(...(accs as number[]));
  const states = lanes.map((l) => l.state);
  const state = states.includes("error")
    ? "error"
    : states.every((s) => s === "done")
    ? "done"
    : states.some((s) => s === "running")
    ? "running"
    : states.some((s) => s === "evaluating")
    ? "evaluating"
    : states.every((s) => s === "paused" || s === "done")
    ? "paused"
    : "starting";
  statusEl.dataset.state = state;
  statusEl.dataset.step = String(step);
  statusEl.dataset.accuracyAtL = minAcc === null ? "" : String(minAcc);
  statusEl.dataset.running = String(states.filter((s) => s === "running").length);
  statusEl.dataset.slots = String(SLOTS);
  const rate = lanes.reduce((sum, l) => sum + (l.state === "running" ? l.stepsPerSecond ?? 0 : 0), 0);
  const errors = lanes.filter((l) => l.error).map((l) => `${l.entry.model}: ${l.error}`);
  statusEl.textContent = `${state}; step ${step} of ${settings.steps}` +
    (minAcc === null ? "" : `; accuracy at L ${lanes.length > 1 ? "(lowest) " : ""}${pct(minAcc)}`) +
    (rate > 0 ? `; ${rate.toFixed(0)} steps/s in all` : "") + (errors.length ? `; ${errors.join("; ")}` : "");
  for (const id of ["play", "pause", "step"]) {
    $<HTMLButtonElement>(id).disabled = state === "error" ||
      states.every((s) => s === "done" || s === "evaluating");
  }
}

/** Each card's last HTML, so a redraw replaces only the cards whose numbers changed. */
const cardHtml = new Map<string, string>();

function cardOf(entry: RaceEntry, lane: Lane | undefined): string {
  const r = entry.resolved;
  const last = lane?.checks[lane.checks.length - 1];
  const live = lane?.lengths[lane.lengths.length - 1]?.points ?? [];
  const final = lane?.result?.accuracyByLength;
  const at = (k: number) =>
    pct(final?.find((a) => a.length === k * r.L)?.accuracy ?? live.find((p) => p.length === k * r.L)?.accuracy);
  const conv = lane?.result?.convergedStep ?? null;
  const state = lane === undefined
    ? "not started"
    : playing && lane.state === "paused" && !turn.has(lane)
    ? "waiting its turn"
    : lane.state;
  return `<span class="state">${state}</span><h3>${entry.model}</h3>` +
    `<div class="num">step ${last?.step ?? 0} / ${r.steps}` +
    (lane?.stepsPerSecond ? ` · ${lane.stepsPerSecond.toFixed(0)} steps/s` : "") + `</div>` +
    `<div class="num">loss ${last ? last.loss.toFixed(3) : "–"} · held-out ${pct(last?.accuracy)}</div>` +
    `<div class="num">accuracy at L ${at(1)} · 2L ${at(2)} · 3L ${at(3)}${final ? " (final)" : ""}</div>` +
    `<div>lr ${r.lr} (${entry.lrSource})${r.heads ? `, ${r.heads} heads` : ""}` +
    (lane?.paramCount ? `, ${lane.paramCount} parameters` : "") + `</div>` +
    (lane?.result
      ? `<div>${lane.result.verdict}${conv === null ? "" : ` at step ${conv}`} · ` +
        `<a href="#" data-export="${entry.model}">export run file</a></div>`
      : "") +
    (lane?.error ? `<div class="error">${escapeHtml(lane.error)}</div>` : "") +
    `<details class="cli" data-model="${entry.model}"${openDetails.has(entry.model) ? " open" : ""}>` +
    `<summary>key <code class="key">${lane?.key || keys.get(entry.model) || "…"}</code>` +
    `</summary><code>${escapeHtml(cliCommand(entry.config))}</code></details>`;
}

function drawCards(): void {
  const box = $("cards");
  const rows = lanes.length > 0 ? lanes.map((l) => l.entry) : entries;
  const byModel = new Map(lanes.map((l) => [l.entry.model, l]));
  const models = rows.map((e) => e.model).join(",");
  if (box.dataset.models !== models) {
    box.dataset.models = models;
    box.innerHTML = rows.map((e) =>
      `<div class="card" style="--c:${MODEL_TABLE[e.model].color}" data-model="${e.model}"></div>`
    ).join("");
    cardHtml.clear();
  }
  for (const entry of rows) {
    const lane = byModel.get(entry.model);
    const html = cardOf(entry, lane);
    const card = box.querySelector<HTMLElement>(`.card[data-model="${entry.model}"]`)!;
    card.dataset.step = String(lane?.checks[lane.checks.length - 1]?.step ?? 0);
    card.dataset.accuracyAtL = String(lane ? accuracyAtL(lane) ?? "" : "");
    if (cardHtml.get(entry.model) === html) continue;
    cardHtml.set(entry.model, html);
    card.innerHTML = html;
  }
}

$("cards").addEventListener("click", (e) => {
  const a = (e.target as HTMLElement).closest<HTMLAnchorElement>("a[data-export]");
  if (!a) return;
  e.preventDefault();
  const lane = lanes.find((l) => l.entry.model === a.dataset.export);
  if (lane?.result) download(`${lane.result.key}.json`, JSON.stringify(lane.result, null, 2) + "\n");
});
$("cards").addEventListener("toggle", (e) => {
  const d = e.target as HTMLDetailsElement;
  if (!d.dataset?.model) return;
  if (d.open) openDetails.add(d.dataset.model);
  else openDetails.delete(d.dataset.model);
}, true);

/** Before a race: each model's key, as run_key.ts computes it (async: SHA-256). */
function fillKeys(): void {
  const settingsNow = settings;
  for (const entry of entries) {
    runKey(entry.config).then((key) => {
      if (settings !== settingsNow) return;
      keys.set(entry.model, key);
      render();
    }, () => {});
  }
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The page's width for the charts, read on resize only (reading it while drawing would force a layout). */
let pageWidth = document.body.clientWidth;
addEventListener("resize", () => {
  pageWidth = document.body.clientWidth;
  chartsDirty = true;
  render();
});

/** Whether the charts' data changed since they were last drawn. */
let chartsDirty = true;

function drawCharts(): void {
  if (entries.length === 0) return;
  const xMax = entries[0].resolved.steps;
  const color = (m: string) => MODEL_TABLE[m as RaceEntry["model"]]?.color ?? "#888";
  const over = overlayRuns();
  const overlaySeries = (y: (p: { loss: number; accuracy: number }) => number): Series[] =>
    over.map((o) => ({
      label: `${o.config.model} seed ${o.config.seed} (${o.key}, loaded)`,
      color: color(o.config.model),
      points: o.history.map((p) => [p.step, y(p)] as const),
      dashed: true,
    }));
  const live = (y: (p: { loss: number; accuracy: number }) => number): Series[] =>
    lanes.map((l) => ({
      label: l.entry.model,
      color: color(l.entry.model),
      points: l.checks.map((p) => [p.step, y(p)] as const),
    }));
  if (!chartsDirty) return;
  chartsDirty = false;
  const wide = Math.min(560, Math.max(300, (pageWidth - 40) / 2));
  $("charts").innerHTML = lineChartSvg({
    title: "Training loss (the step's batch)",
    width: wide,
    height: 220,
    xMax,
    y: "log",
    series: [...overlaySeries((p) => p.loss), ...live((p) => p.loss)],
  }) + lineChartSvg({
    title: "Held-out accuracy at L (512 sequences, every 50 steps)",
    width: wide,
    height: 220,
    xMax,
    y: "percent",
    series: [...overlaySeries((p) => p.accuracy), ...live((p) => p.accuracy)],
    rule: { y: 0.99, label: "99%" },
  });
  const small = Math.min(370, Math.max(240, (pageWidth - 60) / 3));
  $("lengths").innerHTML = [1, 2, 3].map((k) =>
    lineChartSvg({
      title: `Accuracy at ${k === 1 ? "" : k}L (256 sequences; final: 2048)`,
      width: small,
      height: 180,
      xMax,
      y: "percent",
      series: lanes.map((l) => {
        const len = k * l.entry.resolved.L;
        const points = l.lengths.map((p) => [p.step, p.points.find((q) => q.length === len)?.accuracy ?? NaN] as const);
        const final = l.result?.accuracyByLength.find((a) => a.length === len);
        if (final && l.result) points.push([l.result.stepsRun, final.accuracy]);
        return { label: l.entry.model, color: color(l.entry.model), points };
      }),
    })
  ).join("");
  const legend = (lanes.length > 0 ? lanes.map((l) => l.entry.model) : entries.map((e) => e.model)).map((m) =>
    `<span><span class="swatch" style="--c:${color(m)}"></span>${m}</span>`
  );
  const note = overlay.length === 0
    ? ""
    : `<span>dashed: ${over.length} run${over.length === 1 ? "" : "s"} of this task from ${escapeHtml(overlayNote)}` +
      (over.some((o) => lanes.some((l) => l.key === o.key)) ? " (one has a live run's key: same run)" : "") +
      "</span>";
  $("legend").innerHTML = legend.join("") + note;
}

// ---------------------------------------------------------------------------------------------------------------
// Inside the models: heat maps on canvases, redrawn only when a lane's probe changes

const drawnProbe = new Map<string, ProbeView | null>();

/** Marker colours of the heat maps' top row: the first query and the value. */
const QUERY_MARK: [number, number, number] = [176, 0, 32];
const VALUE_MARK: [number, number, number] = [10, 110, 49];

/** A heat map waiting for its canvas: drawn once the panel's HTML is in the page. */
interface HeatJob {
  readonly values: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly scale: number;
  readonly marks: readonly { col: number | null; color: [number, number, number] }[];
}

let heatJobs: HeatJob[] = [];

/**
 * A heat map of `values` [rows, cols] (0 .. `scale` from white to dark blue) as a canvas scaled up by CSS, with a
 * marker row on top coloured at the columns `marks` names (the first query, the value). Returns the canvas's HTML;
 * `drawHeatJobs` paints it (ImageData only: no image encoding on this thread).
 */
function heatMap(
  values: Float32Array,
  rows: number,
  cols: number,
  scale: number,
  marks: HeatJob["marks"],
  maxWidth: number,
): string {
  heatJobs.push({ values, rows, cols, scale, marks });
  const px = Math.max(1, Math.min(10, Math.floor(maxWidth / cols)));
  return `<canvas data-heat="${heatJobs.length - 1}" width="${cols}" height="${rows + 1}" ` +
    `style="width:${cols * px}px;height:${(rows + 1) * px}px"></canvas>`;
}

function drawHeatJobs(root: HTMLElement): void {
  for (const canvas of root.querySelectorAll<HTMLCanvasElement>("canvas[data-heat]")) {
    const job = heatJobs[Number(canvas.dataset.heat)];
    const ctx = canvas.getContext("2d");
    if (!job || !ctx) continue;
    const { values, rows, cols, scale, marks } = job;
    const img = ctx.createImageData(cols, rows + 1);
    const set = (i: number, [r, g, b]: [number, number, number]) => {
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    };
    for (let c = 0; c < cols; c++) set(c, marks.find((m) => m.col === c)?.color ?? [255, 255, 255]);
    for (let i = 0; i < rows * cols; i++) set(cols + i, rampColor(values[i] / scale));
    ctx.putImageData(img, 0, 0);
  }
  heatJobs = [];
}

function tokensHtml(p: ProbeView, tau: number): string {
  const roles = sequenceRoles(p.tokens, tau);
  return p.tokens.map((t, i) => {
    const cls = i === p.tokens.length - 1 || i === roles.firstQuery
      ? "q"
      : roles.firstQuery !== null && i === roles.firstQuery + tau
      ? "v"
      : "";
    return cls ? `<span class="${cls}">${t}</span>` : String(t);
  }).join(" ");
}

function probeHtml(lane: Lane): string {
  const p = lane.probe;
  const m = lane.entry.model;
  const head = `<h3>${m}</h3>`;
  if (p === null) return head + `<p>waiting for the worker…</p>`;
  const tau = lane.entry.resolved.tau;
  const roles = sequenceRoles(p.tokens, tau);
  const l = p.tokens.length;
  const verdict = roles.value === null
    ? "(the query has no earlier occurrence with a value: no right answer)"
    : p.answer === roles.value
    ? `<span class="right">right</span> (value ${roles.value})`
    : `<span class="wrong">wrong</span> (value ${roles.value})`;
  const maps: string[] = [];
  const marks = [
    { col: roles.firstQuery, color: QUERY_MARK },
    { col: roles.firstQuery === null ? null : roles.firstQuery + tau, color: VALUE_MARK },
  ];
  p.layers.forEach((layer, k) => {
    if (layer.kind === "attention") {
      for (let h = 0; h < layer.heads; h++) {
        const w = layer.weights.subarray(h * l * l, (h + 1) * l * l);
        maps.push(
          `<figure class="map">${heatMap(w, l, l, 1, marks, 200)}<figcaption>layer ${k + 1} attention, head ${h + 1}` +
            (roles.firstQuery === null
              ? ""
              : `: last row's weight on the value ${w[(l - 1) * l + roles.firstQuery + tau].toFixed(2)}`) +
            `</figcaption></figure>`,
        );
      }
    } else {
      const e = layer.e;
      const byChannel = new Float32Array(e * l); // [e, l] from delta [l, e]
      let max = 0;
      for (let t = 0; t < l; t++) {
        for (let c = 0; c < e; c++) {
          byChannel[c * l + t] = layer.delta[t * e + c];
          max = Math.max(max, layer.delta[t * e + c]);
        }
      }
      maps.push(
        `<figure class="map">${heatMap(byChannel, e, l, max || 1, marks, 300)}<figcaption>layer ${k + 1} Mamba: Δ, ` +
          `channels down, positions across (darkest ${max.toFixed(2)})</figcaption></figure>`,
      );
      if (layer.retention !== null && layer.from !== null) {
        let best = 0;
        for (let c = 0; c < e; c++) best = Math.max(best, layer.retention[c * l + l - 1]);
        maps.push(
          `<figure class="map">${heatMap(layer.retention, e, l, 1, marks, 300)}<figcaption>layer ${
            k + 1
          }: the value's ` +
            `write (position ${layer.from}) kept by each channel's slowest state; at the end, best channel ` +
            `${best.toFixed(2)}</figcaption></figure>`,
        );
      }
    }
  });
  return head + `<p>step ${p.step}: answers <strong>${p.answer}</strong> (p = ${p.probability.toFixed(2)}), ` +
    `${verdict}</p><div class="tokens">${tokensHtml(p, tau)}</div><div class="maps">${maps.join("")}</div>`;
}

function drawInside(): void {
  const box = $("inside");
  const models = lanes.map((l) => l.entry.model);
  if (box.dataset.models !== models.join(",")) {
    box.dataset.models = models.join(",");
    box.innerHTML = lanes.map((l) =>
      `<div class="probe" style="--c:${MODEL_TABLE[l.entry.model].color}" id="probe-${l.entry.model}"></div>`
    ).join("");
    drawnProbe.clear();
  }
  // One panel a frame: five probes often arrive together (the workers start and check in step), and drawing them
  // all in one frame is one long task of the page; the rest wait for the next frames.
  const stale = lanes.filter((l) => !drawnProbe.has(l.entry.model) || drawnProbe.get(l.entry.model) !== l.probe);
  if (stale.length === 0) return;
  const lane = stale[0];
  drawnProbe.set(lane.entry.model, lane.probe);
  const panel = $(`probe-${lane.entry.model}`);
  panel.innerHTML = probeHtml(lane);
  drawHeatJobs(panel);
  if (stale.length > 1) render();
}

// ---------------------------------------------------------------------------------------------------------------
// Start

const { unknown } = parseHash(location.hash);
fillForm(settings);
const startable = applySettings(settings);
if (unknown.length > 0) {
  $("status").textContent += ` (not settings, ignored: ${unknown.join(", ")})`;
}
if (startable && parseHash(location.hash).settings.autorun) startRace("play");
addEventListener("hashchange", () => {
  if (lanes.length > 0) return;
  const next = parseHash(location.hash).settings;
  if (toHash(next) === toHash(settings)) return;
  fillForm(next);
  if (applySettings(next) && next.autorun) startRace("play");
});

(globalThis as unknown as { recallPlayground: unknown }).recallPlayground = {
  /** The run files of the finished models, in race order. */
  runFiles: (): RunResult[] => lanes.flatMap((l) => (l.result ? [l.result] : [])),
  /** Each model's latest live probe. */
  probes: (): (ProbeView | null)[] => lanes.map((l) => l.probe),
};
