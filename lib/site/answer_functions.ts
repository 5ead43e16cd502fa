/**
 * The functions and formats authored answers may use (lib/site/checked_text.ts), over one problem's runs.
 *
 * Lookups select runs by their settings, given as named arguments (model, d, M, tau, L, K: every one given must
 * match; the ones left out may take any value) and return one value per seed, in seed order:
 *   acc(..., at="3L")    accuracy at a length: "L", "2L", ..., "16L" or a number of tokens
 *   conv(...)            the step of convergence to 99% (null where a seed did not converge)
 *   final(...)           held-out accuracy at the last check
 * and counts: seeds(...), converged(...). Reductions over a seed list: mean, min, max (all seeds must have a value),
 * count_at_least(list, x). Selecting no run is an error naming the selection, so a typo cannot pass as a number.
 *
 * Formats: pct (0.9375 -> "93.8%"), range (a seed list of accuracies -> "93.8% [80.1–99.9%]" or "100%" when all
 * seeds agree), steps (12000 -> "12,000"), int.
 */
import type { RunResult } from "../store/results.ts";
import { accuracyAt } from "../store/results.ts";
import type { TextFormat, TextFunction, TextFunctions, TextValue } from "./checked_text.ts";
import { pct, steps } from "./format.ts";

const SELECTORS = ["model", "d", "M", "tau", "L", "K"] as const;

function select(runs: readonly RunResult[], named: Readonly<Record<string, TextValue>>, skip: string[]): RunResult[] {
  for (const key of Object.keys(named)) {
    if (!(SELECTORS as readonly string[]).includes(key) && !skip.includes(key)) {
      throw new Error(`unknown argument ${key}= (select with ${SELECTORS.join(", ")})`);
    }
  }
  const chosen = runs.filter((r) =>
    SELECTORS.every((f) => named[f] === undefined || (r.config as unknown as Record<string, unknown>)[f] === named[f])
  );
  if (chosen.length === 0) {
    const what = Object.entries(named).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    throw new Error(`no runs with ${what.join(", ") || "any settings"}`);
  }
  const settings = new Set(chosen.map((r) => SELECTORS.map((f) => r.config[f]).join(" ")));
  if (settings.size > 1) {
    throw new Error(`the selection matches ${settings.size} settings (${[...settings].join("; ")}): name more of them`);
  }
  return [...chosen].sort((a, b) => a.config.seed - b.config.seed);
}

/** "3L" -> 3 x L, "45" or 45 -> 45. */
function lengthOf(at: TextValue, L: number): number {
  if (typeof at === "number") return at;
  const m = /^(\d*)L$/.exec(String(at));
  if (m) return (m[1] === "" ? 1 : Number(m[1])) * L;
  throw new Error(`at=${JSON.stringify(at)} is not a length like "L", "3L" or 96`);
}

function seedList(v: TextValue, fn: string): readonly (number | null)[] {
  if (!Array.isArray(v)) throw new Error(`${fn}() takes a seed list, got ${JSON.stringify(v)}`);
  return v;
}

function complete(v: TextValue, fn: string): number[] {
  const list = seedList(v, fn);
  if (list.some((x) => x === null)) throw new Error(`${fn}() of a list with missing seeds (${JSON.stringify(list)})`);
  return list as number[];
}

/** The functions of the runs `runs`. */
export function answerFunctions(runs: readonly RunResult[]): TextFunctions {
  const lookup = (
    pick: (r: RunResult, named: Readonly<Record<string, TextValue>>) => number | null,
    extra: string[] = [],
  ) => ((_args, named) => select(runs, named, extra).map((r) => pick(r, named))) as TextFunction;
  return {
    acc: lookup((r, named) => {
      const length = lengthOf(named.at ?? "L", r.config.L);
      const a = accuracyAt(r, length);
      if (a === null && r.status !== "diverged") throw new Error(`length ${length} was not evaluated`);
      return a;
    }, ["at"]),
    conv: lookup((r) => r.convergedStep),
    final: lookup((r) => r.history.at(-1)?.accuracy ?? null),
    seeds: (_args, named) => select(runs, named, []).length,
    converged: (_args, named) => select(runs, named, []).filter((r) => r.convergedStep !== null).length,
    mean: ([v]) => {
      const xs = complete(v, "mean");
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    },
    min: ([v]) => Math.min(...complete(v, "min")),
    max: ([v]) => Math.max(...complete(v, "max")),
    count_at_least: ([v, x]) => seedList(v, "count_at_least").filter((y) => y !== null && y >= (x as number)).length,
  };
}

function numberFormat(f: (x: number) => string): TextFormat {
  return (v) => {
    if (typeof v !== "number") throw new Error(`expects a number, got ${JSON.stringify(v)}`);
    return f(v);
  };
}

/** The formats of authored answers. */
export const ANSWER_FORMATS: Readonly<Record<string, TextFormat>> = {
  pct: numberFormat(pct),
  steps: numberFormat(steps),
  int: numberFormat((x) => String(Math.round(x))),
  range: (v) => {
    const xs = complete(v, "range");
    const lo = Math.min(...xs), hi = Math.max(...xs), mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    if (pct(lo) === pct(hi)) return pct(mean);
    return `${pct(mean)} [${pct(lo).replace("%", "")}–${pct(hi)}]`;
  },
};
