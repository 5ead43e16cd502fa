/**
 * The playground's settings: what the URL hash holds, their defaults, and their check by the same `resolve()` every
 * script uses (lib/training/config.ts), so a setting the scripts refuse is refused here with the same rule, and a
 * setting they accept gives the same run key (lib/store/run_key.ts).
 *
 * Pure (no DOM, no tf): the page (main.ts) and the tests import it.
 *
 * The hash: `#model=hybrid,mamba&K=16&d=8&M=1&L=16&tau=1&seed=0&steps=400&batch=64&lr=0.01&heads=2&far=4,8,16`
 * `&probe=200&sample=0,5,3,...&autorun=1`. A field left out takes its default; `lr` and `heads` left out take each
 * model's own (the problems' screened learning rate where lib/recipes/chosen.ts has one for the setting, else the
 * model table's default; the model table's heads).
 */
import {
  ConfigError,
  type ExperimentConfig,
  MODEL_NAMES,
  type ModelName,
  resolve,
  type ResolvedConfig,
} from "../lib/training/config.ts";
import { RECIPE_TABLE } from "../lib/recipes/chosen.ts";

/** A value as the hash or a field gives it: a number when it reads as one, else the text (resolve names it). */
export type Raw = number | string;

export interface PlaygroundSettings {
  /** One to five models, each trained in its own worker on the same seed and batches. */
  readonly models: readonly string[];
  readonly K: Raw;
  readonly d: Raw;
  readonly M: Raw;
  readonly L: Raw;
  readonly tau: Raw;
  readonly seed: Raw;
  readonly steps: Raw;
  readonly batch: Raw;
  /** Null: each model's own (screened or default). */
  readonly lr: Raw | null;
  /** Null: each model's own. */
  readonly heads: Raw | null;
  /** Multiples of L evaluated beyond 3L at the end, as the CLI's --far-lengths: "4,8,16" or "none". */
  readonly far: string;
  /** Steps between refreshes of the live probes and of the accuracy at L, 2L and 3L. */
  readonly probe: Raw;
  /** The sequence the probes show (token ids 0..K-1), or null for the seed's first random draw at length L. */
  readonly sample: string | null;
  /** Start training as soon as the page opens. */
  readonly autorun: boolean;
}

/**
 * The page's defaults: every model, and the task and training flags of `deno task run` except a length and budget a
 * browser trains quickly (L = 16, 1,000 steps: about 25 s for all five on two cores).
 */
export const DEFAULTS: PlaygroundSettings = {
  models: MODEL_NAMES,
  K: 16,
  d: 8,
  M: 1,
  L: 16,
  tau: 1,
  seed: 0,
  steps: 1000,
  batch: 64,
  lr: null,
  heads: null,
  far: "4,8,16",
  probe: 100,
  sample: null,
  autorun: false,
};

/** The hash's field names, in the order links spell them. */
export const FIELDS = [
  "model",
  "K",
  "d",
  "M",
  "L",
  "tau",
  "seed",
  "steps",
  "batch",
  "lr",
  "heads",
  "far",
  "probe",
  "sample",
  "autorun",
] as const;

/** The most models a race trains (one worker each). */
export const MAX_MODELS = 5;

/** The fewest steps between probe refreshes (a refresh costs about a check). */
export const MIN_PROBE_EVERY = 50;

function raw(text: string): Raw {
  const t = text.trim();
  return t !== "" && Number.isFinite(Number(t)) ? Number(t) : t;
}

/** Settings from a URL hash ("#a=1&b=2" or "a=1&b=2"), and the names it held that are not settings. */
export function parseHash(hash: string): { settings: PlaygroundSettings; unknown: string[] } {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const unknown = [...params.keys()].filter((k) => !(FIELDS as readonly string[]).includes(k));
  const get = (k: string) => params.get(k);
  const num = (k: keyof PlaygroundSettings, fallback: Raw): Raw => (get(k) === null ? fallback : raw(get(k)!));
  const optional = (k: "lr" | "heads"): Raw | null => {
    const v = get(k);
    return v === null || v.trim() === "" ? null : raw(v);
  };
  const models = get("model");
  const sample = get("sample");
  return {
    settings: {
      models: models === null ? DEFAULTS.models : models.split(",").map((m) => m.trim()).filter((m) => m !== ""),
      K: num("K", DEFAULTS.K),
      d: num("d", DEFAULTS.d),
      M: num("M", DEFAULTS.M),
      L: num("L", DEFAULTS.L),
      tau: num("tau", DEFAULTS.tau),
      seed: num("seed", DEFAULTS.seed),
      steps: num("steps", DEFAULTS.steps),
      batch: num("batch", DEFAULTS.batch),
      lr: optional("lr"),
      heads: optional("heads"),
      far: get("far")?.trim() || DEFAULTS.far,
      probe: num("probe", DEFAULTS.probe),
      sample: sample === null || sample.trim() === "" ? null : sample.trim(),
      autorun: get("autorun") === "1" || get("autorun") === "true",
    },
    unknown,
  };
}

/** The hash of `s`: every setting spelled out (lr, heads and sample only when set), so a link survives new defaults. */
export function toHash(s: PlaygroundSettings): string {
  const parts: [string, string][] = [
    ["model", s.models.join(",")],
    ["K", String(s.K)],
    ["d", String(s.d)],
    ["M", String(s.M)],
    ["L", String(s.L)],
    ["tau", String(s.tau)],
    ["seed", String(s.seed)],
    ["steps", String(s.steps)],
    ["batch", String(s.batch)],
  ];
  if (s.lr !== null) parts.push(["lr", String(s.lr)]);
  if (s.heads !== null) parts.push(["heads", String(s.heads)]);
  parts.push(["far", s.far], ["probe", String(s.probe)]);
  if (s.sample !== null) parts.push(["sample", s.sample]);
  if (s.autorun) parts.push(["autorun", "1"]);
  // Commas stay readable: URLSearchParams would write them as %2C.
  return "#" + parts.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ",")}`).join("&");
}

/** `far` as the config's farLengths: "none" is [], "4,8,16" is [4, 8, 16]; anything else goes to resolve as text. */
export function farLengthsOf(far: string): readonly number[] {
  const t = far.trim();
  if (t === "none") return [];
  return t.split(",").map((p) => raw(p)) as number[];
}

/**
 * The learning rate `deno task p1` (or p2, p3) trains this model at on this task, from the screens
 * (lib/recipes/chosen.ts; the screens ran at L = 64, every setting of the table has K = 16), or null when no screened
 * row matches, and the model table's default applies.
 */
export function screenedLr(model: string, task: { K: Raw; d: Raw; M: Raw; tau: Raw }): number | null {
  const row = RECIPE_TABLE.find((r) =>
    r.chosen !== null && r.setting.model === model && r.setting.K === task.K && r.setting.d === task.d &&
    r.setting.M === task.M && r.setting.tau === task.tau
  );
  return row?.chosen?.lr ?? null;
}

/** Where a learning rate comes from, for the page to say. */
export type LrSource = "set" | "screened" | "model default";

/** The experiment `model` trains in the race (not yet checked: `checkSettings` resolves it). */
export function experimentOf(s: PlaygroundSettings, model: string): { config: ExperimentConfig; lrSource: LrSource } {
  const screened = s.lr === null ? screenedLr(model, s) : null;
  const lr = s.lr ?? screened ?? undefined;
  const config = {
    model: model as ModelName,
    K: s.K,
    d: s.d,
    M: s.M,
    L: s.L,
    tau: s.tau,
    seed: s.seed,
    steps: s.steps,
    batch: s.batch,
    farLengths: farLengthsOf(s.far),
    ...(lr === undefined ? {} : { lr }),
    ...(s.heads === null ? {} : { heads: s.heads }),
  } as unknown as ExperimentConfig;
  return { config, lrSource: s.lr !== null ? "set" : screened !== null ? "screened" : "model default" };
}

/** A refused setting: the page field it belongs to and resolve()'s rule (the flag's "--" dropped). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** The page field of a ConfigError's flag. */
function fieldOfFlag(flag: string): string {
  if (flag === "far-lengths") return "far";
  if (flag === "model") return "model";
  return ["K", "d", "M", "L", "tau", "seed", "steps", "batch", "lr", "heads"].includes(flag) ? flag : "model";
}

/** One model of a checked race: its experiment, resolved. */
export interface RaceEntry {
  readonly model: ModelName;
  readonly config: ExperimentConfig;
  readonly resolved: ResolvedConfig;
  readonly lrSource: LrSource;
}

/**
 * Check every setting the way the scripts do: each model's experiment through `resolve()`; the race's own limits
 * (one to five distinct models, the probe interval). Errors are per field, the first of each field once (a rule
 * that holds for some models only names them).
 */
export function checkSettings(s: PlaygroundSettings): { entries: RaceEntry[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => {
    if (!errors.some((e) => e.field === field)) errors.push({ field, message });
  };
  if (s.models.length === 0) add("model", "pick at least one model");
  if (s.models.length > MAX_MODELS) add("model", `at most ${MAX_MODELS} models race at once`);
  if (new Set(s.models).size !== s.models.length) add("model", "each model once");
  const probe = s.probe;
  if (typeof probe !== "number" || !Number.isInteger(probe) || probe < MIN_PROBE_EVERY) {
    add("probe", `must be an integer >= ${MIN_PROBE_EVERY}, got ${String(probe)}`);
  }
  const entries: RaceEntry[] = [];
  const failures: { model: string; field: string; message: string }[] = [];
  for (const model of s.models) {
    const { config, lrSource } = experimentOf(s, model);
    try {
      entries.push({ model: model as ModelName, config, resolved: resolve(config), lrSource });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      failures.push({ model, field: fieldOfFlag(e.flag), message: e.message.replace(/^--/, "") });
    }
  }
  for (const f of failures) {
    const same = failures.filter((g) => g.field === f.field && g.message === f.message).map((g) => g.model);
    add(f.field, same.length === s.models.length ? f.message : `${same.join(", ")}: ${f.message}`);
  }
  return { entries: errors.length === 0 ? entries : [], errors };
}

/** The `deno task run` flags that train the same run (the same settings, so the same key). */
export function cliArgs(c: ExperimentConfig): string[] {
  const r = resolve(c);
  return [
    ["model", r.model],
    ["K", r.K],
    ["d", r.d],
    ["M", r.M],
    ["L", r.L],
    ["tau", r.tau],
    ["seed", r.seed],
    ["steps", r.steps],
    ["batch", r.batch],
    ["lr", r.lr],
    ...(r.heads > 0 ? [["heads", r.heads]] : []),
    ["far-lengths", r.farLengths.length === 0 ? "none" : r.farLengths.join(",")],
  ].flatMap(([k, v]) => [`--${k}`, String(v)]);
}

/** The `deno task run` command that trains the same run. */
export function cliCommand(c: ExperimentConfig): string {
  return `deno task run ${cliArgs(c).join(" ")}`;
}

/** Every model a race may pick, in the model table's order. */
export const PICKABLE_MODELS: readonly ModelName[] = MODEL_NAMES;
