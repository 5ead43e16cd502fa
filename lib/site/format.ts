/**
 * Words and numbers for reports: percentages, lengths relative to L, step counts, durations, English lists,
 * series names and HTML escaping. Every number a reader sees goes through here, so they all look alike.
 */
import { fieldOf, type Series, type SettingField } from "./series.ts";

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** An accuracy in [0, 1] as a percentage with at most one decimal: 0.98437 -> "98.4%", 1 -> "100%". */
export function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

/** A difference of accuracies in percentage points, signed: -0.123 -> "−12.3 points". */
export function points(delta: number): string {
  const v = Math.round(delta * 1000) / 10;
  const sign = v > 0 ? "+" : v < 0 ? "−" : "±";
  return `${sign}${Math.abs(v)} points`;
}

/** A length with its multiple of L: (64, 32) -> "2L = 64", (45, 32) -> "45 (1.41L)". */
export function lengthText(length: number, L: number): string {
  const ratio = length / L;
  if (Number.isInteger(ratio)) return `${ratio === 1 ? "" : ratio}L = ${length}`;
  return `${length} (${Math.round(ratio * 100) / 100}L)`;
}

/** A step count with thousands separators: 12000 -> "12,000". */
export function steps(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A duration in seconds as "2 h 05 min", "3 min 07 s" or "4.2 s". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "unknown";
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${m} min ${String(r).padStart(2, "0")} s`;
}

/** An ISO date as "2024-11-28 17:31 UTC" (the input when it is not a date). */
export function dateText(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return `${t.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Join words as an English list: ["a"] -> "a", ["a", "b", "c"] -> "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const SYMBOL: Record<SettingField, string> = { model: "model", K: "K", d: "d", M: "M", tau: "τ", L: "L" };

/** "τ = 5", "d = 64": one setting field with its value. */
export function fieldText(field: SettingField, value: string | number): string {
  return `${SYMBOL[field]} = ${value}`;
}

/** A series' name: its model, plus the given fields in parentheses, e.g. "mamba (d = 64, τ = 10)". */
export function seriesName(s: Series, fields: readonly SettingField[]): string {
  const extra = fields.filter((f) => f !== "model").map((f) => fieldText(f, fieldOf(s, f)));
  return extra.length === 0 ? s.model : `${s.model} (${extra.join(", ")})`;
}
