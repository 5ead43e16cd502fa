/**
 * `deno task pdf`: the homework PDF reports, <out>/hw<N>.pdf for every homework some problem names (Problem 1
 * is homework 3, Problems 2 and 3 homework 4), printed by headless Chromium from the same report pages as
 * `deno task report`, with a title block and a code appendix (lib/site/). Without Chromium it says so in one
 * line with the install command, exits 2 and writes nothing.
 */
import { loadProblems } from "../site/pages.ts";
import { CHROMIUM_INSTALL, probeChromium } from "../platform/chromium.ts";
import { homeworkFile, homeworksOf, homeworkTitle } from "../site/homework.ts";
import { MissingResultsError, writeHomeworkPdfs } from "../site/write_pdfs.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task pdf [flags]

Print the homework reports: <out>/hw<N>.pdf for each homework, from the problems' results files, through
headless Chromium ($CHROMIUM, default /usr/bin/chromium). Each PDF holds a title block, each problem's report
(charts, findings, the table of every run) and an appendix listing the code. An existing PDF is replaced only
when its new version printed.`;

await cliMain(async () => {
  const registry = await loadProblems();
  const homeworks = homeworksOf(registry);
  const flags: readonly FlagSpec[] = [
    {
      name: "out",
      type: "dir",
      default: "reports",
      help: "Folder holding one folder per problem; the PDFs are written here.",
    },
    {
      name: "homework",
      type: "int",
      choices: homeworks.map((hw) => hw.number),
      help: `Make only this homework's PDF (${homeworks.map((hw) => `${hw.number}: ${homeworkFile(hw)}`).join(", ")}).`,
    },
    {
      name: "no-probes",
      type: "boolean",
      help: "Leave out the probe figures (shown for runs probed with deno task probe), for a shorter PDF.",
    },
  ];
  const f = parseFlags(Deno.args, flags, USAGE);
  if (!f) return;
  const browser = await probeChromium();
  if (!browser.ok) {
    throw new UsageError(`no browser to print the PDFs with (${browser.reason}); install it with: ${CHROMIUM_INSTALL}`);
  }
  const out = f.out as string;
  try {
    const written = await writeHomeworkPdfs(out, registry, {
      chromium: browser.path,
      browser: browser.version,
      command: ["deno", "task", "pdf", ...Deno.args].join(" "),
      only: f.homework === undefined ? undefined : [f.homework as number],
      noProbes: f["no-probes"] === true,
    });
    for (const w of written) {
      console.error(`${w.path}: ${homeworkTitle(w.homework)}, ${w.pages} pages, ${Math.round(w.bytes / 1024)} KB`);
    }
  } catch (e) {
    if (e instanceof MissingResultsError) throw new UsageError(e.message);
    throw e;
  }
});
