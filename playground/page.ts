/**
 * The playground's HTML: one self-contained document holding its style, the page's script, the worker's script (as
 * inert text the page turns into a Blob URL, since a page opened from disk cannot start a worker from a file) and
 * tfjs-backend-wasm's binary in base64 (the workers instantiate it from a Blob URL). Nothing is fetched.
 */
import { MODEL_TABLE, type ModelName } from "../lib/models/model_table.ts";
import { PICKABLE_MODELS } from "./settings.ts";

/** What the build puts into the page. */
export interface PageParts {
  readonly mainJs: string;
  readonly workerJs: string;
  readonly wasmBase64: string;
  /** One line on how it was built (commit, tfjs version), shown at the bottom. */
  readonly buildNote: string;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Script text safe inside a <script> element: no "</script" can end it early. */
export function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

/** The settings fields: id (the hash's name), label, a hint shown as the placeholder or title. */
const FIELDS: readonly { id: string; label: string; title: string; size?: number }[] = [
  { id: "K", label: "K", title: "vocabulary size" },
  { id: "d", label: "d", title: "model width" },
  { id: "M", label: "M", title: "number of queries (the first M tokens)" },
  { id: "L", label: "L", title: "training length" },
  { id: "tau", label: "τ", title: "delay of the value after the first query" },
  { id: "seed", label: "seed", title: "run seed: init, train and test streams" },
  { id: "steps", label: "steps", title: "step budget" },
  { id: "batch", label: "batch", title: "minibatch size" },
  {
    id: "lr",
    label: "lr",
    title: "peak learning rate; empty: each model's own (screened where the problems have one)",
  },
  { id: "heads", label: "heads", title: "attention heads; empty: each model's own (2)" },
  { id: "far", label: "far", title: "multiples of L evaluated beyond 3L at the end (4,8,16 or none)", size: 7 },
  { id: "probe", label: "probe every", title: "steps between refreshes of the probes and of accuracy at L, 2L, 3L" },
];

function modelBox(m: ModelName): string {
  const spec = MODEL_TABLE[m];
  return `<label class="model" title="${escapeHtml(spec.label)}" style="--c:${spec.color}">` +
    `<input type="checkbox" name="model" value="${m}"> <span class="swatch"></span>${m}</label>`;
}

function field(f: (typeof FIELDS)[number]): string {
  return `<label class="field" title="${escapeHtml(f.title)}"><span>${escapeHtml(f.label)}</span>` +
    `<input id="f-${f.id}" name="${f.id}" size="${f.size ?? 5}" autocomplete="off"></label>` +
    `<span class="error" data-error-for="${f.id}" role="alert"></span>`;
}

const STYLE = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #222; }
body { margin: 0 auto; padding: 0 16px 40px; max-width: 1180px; }
h1 { font-size: 22px; margin: 14px 0 2px; }
h2 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 4px 0; }
.lede { color: #555; max-width: 900px; }
fieldset { border: 1px solid #ddd; border-radius: 6px; margin: 8px 0; padding: 6px 10px; }
fieldset:disabled { opacity: 0.75; }
legend { color: #555; padding: 0 4px; }
.model { margin-right: 12px; white-space: nowrap; cursor: pointer; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; background: var(--c); margin-right: 3px; }
.fields { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: baseline; }
.field span { margin-right: 4px; color: #444; }
.field input { font: inherit; padding: 2px 4px; }
.error { color: #b00020; font-size: 12.5px; }
.error:empty { display: none; }
.fields .error { flex-basis: 100%; margin: -2px 0 2px; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 8px 0; }
button { font: inherit; padding: 3px 12px; border-radius: 4px; border: 1px solid #999; background: #f6f6f6; cursor: pointer; }
button:disabled { cursor: default; opacity: 0.5; }
#status { font-variant-numeric: tabular-nums; color: #333; }
#status[data-state="invalid"], #status[data-state="error"] { color: #b00020; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(215px, 1fr)); gap: 8px; }
.card, .probe, .charts { contain: content; }
.card { border: 1px solid #ddd; border-left: 5px solid var(--c); border-radius: 6px; padding: 6px 8px; font-size: 13px; }
.card h3 { font-size: 14px; margin: 0 0 2px; }
.card .num { font-variant-numeric: tabular-nums; }
.card code, .cli code { font-size: 11.5px; word-break: break-all; }
.card .state { float: right; color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 6px 16px; }
.charts svg { overflow: visible; }
.chart-title { font-size: 12.5px; font-weight: 600; fill: #333; }
.tick { font-size: 10.5px; fill: #555; }
.grid { stroke: #eee; }
.axis { stroke: #999; }
.rule { stroke: #999; stroke-dasharray: 2 3; }
.legend { font-size: 12.5px; color: #444; }
.legend span { margin-right: 12px; white-space: nowrap; }
.inside { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 10px; }
.probe { border: 1px solid #ddd; border-top: 4px solid var(--c); border-radius: 6px; padding: 6px 8px; }
.probe h3 { font-size: 14px; margin: 0; }
.maps { display: flex; flex-wrap: wrap; gap: 6px 12px; margin-top: 4px; }
.map figcaption { font-size: 11.5px; color: #555; max-width: 200px; }
.map canvas { image-rendering: pixelated; image-rendering: crisp-edges; border: 1px solid #ccc; display: block; }
.map { margin: 0; }
#sample { font: 12.5px ui-monospace, monospace; width: 100%; box-sizing: border-box; }
.tokens { font: 11.5px ui-monospace, monospace; color: #555; word-break: break-all; }
.tokens .q { color: #b00020; font-weight: 700; }
.tokens .v { color: #0a6e31; font-weight: 700; }
.right { color: #0a6e31; } .wrong { color: #b00020; }
footer { margin-top: 24px; color: #777; font-size: 12px; }
`;

/** The whole document. */
export function pageHtml(parts: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Recall Lab — Recall Playground</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Recall Playground</h1>
<p class="lede">Train the Transformers, Mamba and the Hybrid on associative recall in this browser and watch them
learn. Each model trains in its own worker with the scripts' code (the same <code>resolve()</code>, seeded streams,
model and training loop), on the same seed and batches, so a run here has the key, and the history, that
<code>deno task run</code> gives with the same settings. Every setting is in the address (copy it to share a run).
<a href="../index.html">All reports</a>.</p>
</header>
<form id="settings" autocomplete="off">
<fieldset id="settings-fields">
<legend>Task and training</legend>
<div>${PICKABLE_MODELS.map(modelBox).join("")}<span class="error" data-error-for="model" role="alert"></span></div>
<div class="fields">${FIELDS.map(field).join("")}</div>
</fieldset>
</form>
<div class="controls">
<button id="play" type="button">Play</button>
<button id="pause" type="button">Pause</button>
<button id="step" type="button" title="train to the next held-out check">Step</button>
<button id="reset" type="button" title="stop every worker and allow new settings">Reset</button>
<label title="a results.json of a problem (reports/p1/results.json) or one run file: its runs of this task are drawn dashed">
Overlay results: <input id="overlay" type="file" accept=".json,application/json"></label>
<span class="error" data-error-for="overlay" role="alert"></span>
</div>
<p id="status" data-state="idle" data-step="0" data-accuracy-at-l="" aria-live="polite"></p>
<div id="cards" class="cards"></div>
<h2>Learning</h2>
<div id="charts" class="charts"></div>
<div id="lengths" class="charts"></div>
<p class="legend" id="legend"></p>
<h2>Inside the models</h2>
<p class="lede">One sequence through each model (token ids 0..K-1; the last token is the query, the value follows
its first occurrence τ later; on each map's top row red marks the first query, green the value). Attention: each
head's weights, query positions down, keys across. Mamba: the
selection step size Δ per channel (large: write and forget; small: hold) and how much of the value's write the
channel's slowest state keeps at each later position. Refreshed every "probe every" steps, from the reference
layers' caches.</p>
<div class="controls">
<button id="draw-l" type="button">Random at L</button>
<button id="draw-2l" type="button">at 2L</button>
<button id="draw-3l" type="button">at 3L</button>
</div>
<input id="sample" aria-label="sequence" spellcheck="false">
<span class="error" data-error-for="sample" role="alert"></span>
<div id="inside" class="inside"></div>
<footer>${escapeHtml(parts.buildNote)}</footer>
<script id="pg-worker" type="text/plain">${scriptText(parts.workerJs)}</script>
<script id="pg-wasm" type="application/octet-stream">${parts.wasmBase64}</script>
<script>${scriptText(parts.mainJs)}</script>
</body>
</html>
`;
}
