/**
 * `deno task figure`: one chart of a study's page as a standalone SVG file (for the README or a paper), drawn from the
 * committed results exactly as the page draws it. No training.
 *
 *   deno task figure --study protocol --part protocol-stopped --out docs/figures/protocol.svg
 */
import { join } from "node:path";
import { readAllResults } from "../site/write.ts";
import { loadProblems } from "../site/pages.ts";
import { readProbes } from "../probes/probe_file.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";
import { writeTextAtomic } from "../platform/atomic_write.ts";

const USAGE = `deno task figure --study <id> --part <part id> --out FILE.svg

Write the chart of one part of a study's page (the id its section has on the page, without "-part") as an SVG file.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "study", type: "string", default: "protocol", help: "The study whose page holds the chart." },
  { name: "part", type: "string", default: "protocol-stopped", help: "The part whose chart to write." },
  { name: "out", type: "file", default: "docs/figures/protocol.svg", help: "The SVG file to write." },
  { name: "reports", type: "dir", default: "reports", help: "Folder holding one folder per study." },
];

/** The first plot SVG of `html`, standalone (with its XML namespace). */
export function standaloneSvg(html: string): string | null {
  const m = /<svg[^>]*class="plot[^"]*"[\s\S]*?<\/svg>/.exec(html);
  if (m === null) return null;
  const svg = m[0];
  return svg.includes("xmlns=") ? svg : svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
}

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const problems = await loadProblems();
  const study = problems.find((p) => p.id === f.study);
  if (!study) throw new UsageError(`--study must be one of ${problems.map((p) => p.id).join(", ")}, got "${f.study}"`);
  const results = await readAllResults(f.reports as string, problems);
  const mine = results.get(study.id);
  if (!mine) throw new UsageError(`no results in ${join(f.reports as string, study.id)} (run deno task ${study.id})`);
  const probes = await readProbes(join(f.reports as string, study.id), mine.runs);
  const parts = study.view(mine, { results, probes }).parts;
  const part = parts.find((p) => p.id === f.part);
  if (!part?.chart) {
    throw new UsageError(`--part must be one of ${parts.filter((p) => p.chart).map((p) => p.id).join(", ")}`);
  }
  const svg = standaloneSvg(part.chart());
  if (svg === null) throw new UsageError(`the part ${part.id} has no chart to write`);
  await writeTextAtomic(f.out as string, svg + "\n");
  console.error(`wrote ${f.out} (${part.title})`);
});
