/**
 * Observable Plot on a server-side DOM (linkedom): charts become SVG markup at generation time, so a report
 * needs no script, network or font to show them.
 *
 * The import order below matters: crisp_lines.ts must be evaluated before Plot so that Plot picks the
 * half-pixel offset that keeps 1px lines sharp (see that file).
 */
import { parseHTML } from "linkedom";
import { removePixelRatioWindow } from "./crisp_lines.ts";
import * as Plot from "@observablehq/plot";

removePixelRatioWindow();

export { Plot };

/** Render a Plot specification to an SVG (or figure) markup string on a fresh server-side document. */
export function renderPlot(options: Plot.PlotOptions): string {
  const dom = parseHTML("<!doctype html><html><head></head><body></body></html>") as unknown as {
    document: NonNullable<Plot.PlotOptions["document"]>;
  };
  const node = Plot.plot({ ...options, document: dom.document });
  return node.outerHTML;
}

/** The offset Plot applies to 1px strokes, read from a rendered rule: 0.5 means lines are drawn crisp. */
export function lineOffset(): number {
  const svg = renderPlot({ width: 100, height: 100, axis: null, marks: [Plot.ruleX([0])] });
  const group = /<g\b[^>]*aria-label="rule"[^>]*>/.exec(svg)?.[0] ?? "";
  const shift = /translate\(([-\d.]+)/.exec(group);
  return shift === null ? 0 : Number(shift[1]);
}
