/**
 * The playground's charts as plain SVG text (no chart library, so the page stays light and a redraw is one string),
 * and the colour ramp its heat maps use. Pure: the page sets the text as a container's innerHTML; tests read it.
 */

/** One line: its points [x, y], colour, and whether it is an overlay (dashed, thin). */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface ChartSpec {
  readonly title: string;
  readonly width: number;
  readonly height: number;
  /** The x axis from 0 to `xMax` (steps). */
  readonly xMax: number;
  /** "percent": 0..1 shown as 0..100%; "log": a log axis over the data's decades. */
  readonly y: "percent" | "log";
  readonly series: readonly Series[];
  /** A horizontal reference line (e.g. the 99% target), in data units. */
  readonly rule?: { readonly y: number; readonly label: string };
}

const MARGIN = { top: 22, right: 10, bottom: 26, left: 42 };

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** About `count` round tick values over [0, max]. */
export function linearTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-9 * max; t += step) ticks.push(Math.round(t / pow) * pow);
  return ticks;
}

function stepText(n: number): string {
  return n >= 1000 ? `${+(n / 1000).toFixed(1)}k` : String(n);
}

/** The decades a log axis spans for positive values `ys` (at least one decade, at most 1e-4 .. 1e2). */
export function logDomain(ys: readonly number[]): [number, number] {
  const pos = ys.filter((y) => y > 0 && Number.isFinite(y));
  if (pos.length === 0) return [0.01, 10];
  const lo = Math.max(-4, Math.floor(Math.log10(Math.min(...pos))));
  const hi = Math.min(2, Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...pos)))));
  return [10 ** lo, 10 ** hi];
}

/** A line chart as an SVG element's text. */
export function lineChartSvg(spec: ChartSpec): string {
  const { width, height } = spec;
  const w = width - MARGIN.left - MARGIN.right, h = height - MARGIN.top - MARGIN.bottom;
  const xMax = Math.max(1, spec.xMax);
  const x = (v: number) => MARGIN.left + (Math.min(v, xMax) / xMax) * w;
  let y: (v: number) => number;
  let yTicks: { v: number; text: string }[];
  if (spec.y === "percent") {
    y = (v) => MARGIN.top + (1 - v) * h;
    yTicks = [0, 0.25, 0.5, 0.75, 1].map((v) => ({ v, text: `${v * 100}%` }));
  } else {
    const [lo, hi] = logDomain(spec.series.flatMap((s) => s.points.map((p) => p[1])));
    const a = Math.log10(lo), b = Math.log10(hi);
    y = (v) => MARGIN.top + (1 - (Math.log10(Math.min(hi, Math.max(lo, v))) - a) / (b - a)) * h;
    yTicks = [];
    for (let e = a; e <= b; e++) yTicks.push({ v: 10 ** e, text: e >= 0 ? String(10 ** e) : `1e${e}` });
  }
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `role="img" aria-label="${escapeXml(spec.title)}">`,
    `<text x="${MARGIN.left}" y="14" class="chart-title">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of yTicks) {
    const py = y(t.v).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${py}" y2="${py}" class="grid"/>`,
      `<text x="${MARGIN.left - 4}" y="${py}" dy="0.32em" text-anchor="end" class="tick">${t.text}</text>`,
    );
  }
  for (const t of linearTicks(xMax)) {
    const px = x(t).toFixed(1);
    parts.push(
      `<line x1="${px}" x2="${px}" y1="${MARGIN.top + h}" y2="${MARGIN.top + h + 4}" class="axis"/>`,
      `<text x="${px}" y="${MARGIN.top + h + 15}" text-anchor="middle" class="tick">${stepText(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${MARGIN.top + h}" y2="${MARGIN.top + h}" class="axis"/>`,
  );
  if (spec.rule) {
    const py = y(spec.rule.y).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + w}" y1="${py}" y2="${py}" class="rule"/>`,
      `<text x="${MARGIN.left + w}" y="${py}" dy="-3" text-anchor="end" class="tick">${
        escapeXml(spec.rule.label)
      }</text>`,
    );
  }
  for (const s of spec.series) {
    const pts = s.points.filter((p) => p[0] <= xMax && Number.isFinite(p[1]));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i === 0 ? "M" : "L"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    const style = s.dashed ? ` stroke-dasharray="4 3" stroke-width="1" opacity="0.7"` : ` stroke-width="1.8"`;
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}"${style}><title>${escapeXml(s.label)}</title></path>`);
    if (pts.length === 1 && !s.dashed) {
      parts.push(`<circle cx="${x(pts[0][0]).toFixed(1)}" cy="${y(pts[0][1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    }
  }
  parts.push("</svg>");
  return parts.join("");
}

/** The heat maps' ramp: 0 white to 1 dark blue, as [r, g, b]; NaN light grey (no value). */
export function rampColor(v: number): [number, number, number] {
  if (!Number.isFinite(v)) return [236, 236, 236];
  const t = Math.min(1, Math.max(0, v));
  return [Math.round(255 - 227 * t), Math.round(255 - 196 * t), Math.round(255 - 120 * t)];
}
