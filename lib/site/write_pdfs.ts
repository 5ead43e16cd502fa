/**
 * `deno task pdf`'s work: for each homework, read its problems' results (and probe files) from the reports
 * folder, build its document, print it with Chromium into a temporary folder, and only when every requested
 * PDF printed, move each into place (`<dir>/hw<N>.pdf`) atomically. Any failure leaves earlier PDFs as they
 * were; a missing results file is found before anything is printed.
 */
import { join } from "node:path";
import type { ProblemDefinition } from "./pages.ts";
import { writeBytesAtomic } from "../platform/atomic_write.ts";
import { readAllResults } from "./write.ts";
import { probeParts } from "./probe_parts.ts";
import { readProbes, readStudyProbes } from "../probes/probe_file.ts";
import { readLongs } from "../probes/long_file.ts";
import { appendixHtml, listedFiles } from "./code_listing.ts";
import { appendixFile, authored, type Homework, homeworkFile, homeworksOf } from "./homework.ts";
import { homeworkAnswersHtml, homeworkHtml, type HomeworkProblem, type MadeBy } from "./homework_document.ts";
import { pageCount, printToPdf } from "./print_pdf.ts";

/** A homework that cannot be made from what the reports folder holds (the message says what to run). */
export class MissingResultsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MissingResultsError";
  }
}

/** One PDF written. */
export interface WrittenPdf {
  readonly path: string;
  readonly homework: Homework;
  readonly pages: number;
  readonly bytes: number;
}

export interface PdfOptions {
  /** The browser binary (already probed). */
  readonly chromium: string;
  /** Its version line, for the title block. */
  readonly browser: string;
  /** The command line, for the title block. */
  readonly command: string;
  /** Leave out the probe parts (the problem pages show them for runs with a probe file). */
  readonly noProbes?: boolean;
  /** Homework numbers to make (default: every homework). */
  readonly only?: readonly number[];
  /** Lines about repaired results files (default: stderr). */
  readonly log?: (line: string) => void;
}

/** Make the homework PDFs from the results under `dir`; returns what was written. */
export async function writeHomeworkPdfs(
  dir: string,
  registry: readonly ProblemDefinition[],
  options: PdfOptions,
): Promise<WrittenPdf[]> {
  const homeworks = homeworksOf(registry).filter((hw) =>
    options.only === undefined || options.only.includes(hw.number)
  );
  const results = await readAllResults(dir, registry, options.log);
  for (const hw of homeworks) {
    const missing = hw.problems.filter((p) => (results.get(p.id)?.runs.length ?? 0) === 0);
    if (missing.length > 0) {
      throw new MissingResultsError(
        `${homeworkFile(hw)} needs finished runs of ${missing.map((p) => p.id).join(", ")}: ${
          missing.map((p) => join(dir, p.id, "results.json")).join(", ")
        } ${missing.length === 1 ? "has" : "have"} none (run ${missing.map((p) => `deno task ${p.id}`).join(", ")})`,
      );
    }
  }
  const context = { results, studyProbes: await readStudyProbes(dir, results) };
  const made: MadeBy = { command: options.command, at: new Date().toISOString(), browser: options.browser };
  const tmp = await Deno.makeTempDir({ prefix: "recall_lab_pdf_" });
  try {
    const printed: { hw: Homework; pdf: string; file: string }[] = [];
    const print = async (hw: Homework, file: string, document: string) => {
      const html = join(tmp, `${file.replace(/\.pdf$/, "")}.html`), pdf = join(tmp, file);
      await Deno.writeTextFile(html, document);
      await printToPdf(options.chromium, html, pdf);
      printed.push({ hw, pdf, file });
    };
    for (const hw of homeworks) {
      const problems: HomeworkProblem[] = [];
      for (const problem of hw.problems) {
        const r = results.get(problem.id)!;
        const probes = options.noProbes === true ? new Map() : await readProbes(join(dir, problem.id), r.runs);
        const long = await readLongs(join(dir, problem.id), r.runs);
        problems.push({ problem, results: r, extraParts: probeParts(r, probes), probes, long });
      }
      const appendix = await appendixHtml(listedFiles(problems));
      const full = homeworkHtml(hw, problems, context, appendix, made);
      if (authored(hw, results)) {
        // The answers first (a grader reads them), the rest of the evidence in a companion appendix.
        await print(hw, homeworkFile(hw), homeworkAnswersHtml(hw, problems, context, made));
        await print(hw, appendixFile(hw), full);
      } else await print(hw, homeworkFile(hw), full);
    }
    const written: WrittenPdf[] = [];
    for (const { hw, pdf, file } of printed) {
      const bytes = await Deno.readFile(pdf);
      const path = join(dir, file);
      await writeBytesAtomic(path, bytes);
      written.push({ path, homework: hw, pages: pageCount(bytes), bytes: bytes.length });
    }
    return written;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
