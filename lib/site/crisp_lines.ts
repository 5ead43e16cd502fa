/**
 * Crisp 1px lines in charts rendered outside a browser.
 *
 * Plot decides once, when its module is evaluated, whether to shift every mark by half a pixel: it shifts only
 * when a `window` exists whose `devicePixelRatio` is not above 1. Without the shift a 1px line drawn at an
 * integer coordinate straddles two device pixels on a standard display and looks blurred. Deno has no `window`,
 * so this module, imported just before Plot (see plot_dom.ts), installs a minimal one with a ratio of 1, and
 * `removePixelRatioWindow()`, called as soon as Plot is evaluated, takes it away again so that no other library
 * (TF.js looks at `window` to detect a browser) ever sees it.
 */

const holder = globalThis as { window?: unknown };
const installed = holder.window === undefined;
if (installed) holder.window = { devicePixelRatio: 1 };

/** Remove the stand-in `window` installed by this module (no-op when a real one existed). */
export function removePixelRatioWindow(): void {
  if (installed) delete holder.window;
}
