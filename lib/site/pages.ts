/**
 * The site's view of the studies: each study (studies/<id>/study.ts) with its page (lib/site/pages/<id>.ts, or the
 * default page: accuracy against length and training curves) and, when its folder holds an answers.md, its authored
 * answers with the figures the page draws for them.
 */
import type { ProblemSettings, StudyDefinition } from "../../studies/definition.ts";
import { loadStudies, STUDIES_DIR } from "../../studies/registry.ts";
import type { ProblemResults } from "../store/results.ts";
import type { AuthoredAnswers } from "./answers_document.ts";
import { accuracyPart, convergencePart, noRuns, type ProblemView, type StudyPage, type ViewContext } from "./view.ts";
import { groupSeries } from "./series.ts";
import { PROTOCOL_L } from "../recipes/protocol.ts";

/** A study as the site draws it. */
export interface ProblemDefinition extends StudyDefinition {
  view(results: ProblemResults, context: ViewContext): ProblemView;
  /** The authored answers (studies/<id>/answers.md), shown first on the page and in the homework PDF. */
  readonly answers?: AuthoredAnswers;
}

const PAGES_DIR = new URL("./pages/", import.meta.url);

/** The page of a study without a page module: its accuracy against length and its training curves. */
export const DEFAULT_PAGE: StudyPage = {
  view(results) {
    const series = groupSeries(results.runs);
    return {
      howToRead: "Accuracy against the test length, then held-out accuracy during training, one line per setting.",
      parts: [
        accuracyPart(
          `${results.problem}-accuracy`,
          "Accuracy against context length",
          series,
          null,
          "Accuracy of every setting against the test context length.",
        ),
        convergencePart(`${results.problem}-convergence`, "Convergence during training", series, null),
      ],
      headline: results.runs.length === 0 ? noRuns(results) : `${results.runs.length} of ${results.planned} runs.`,
    };
  },
};

async function exists(url: URL): Promise<boolean> {
  return await Deno.stat(url).then((i) => i.isFile, () => false);
}

/** The page module of study `id`, or the default page. */
async function pageOf(id: string): Promise<StudyPage> {
  const url = new URL(`${id}.ts`, PAGES_DIR);
  if (!(await exists(url))) return DEFAULT_PAGE;
  const module = await import(url.href);
  if (typeof module.page?.view !== "function") throw new Error(`lib/site/pages/${id}.ts: exports no \`page\``);
  return module.page as StudyPage;
}

/** The settings a study's answers are written for: its own runs, at the protocol's training length. */
const OWN_SETTINGS: ProblemSettings = {
  L: PROTOCOL_L,
  seeds: undefined,
  steps: undefined,
  lrs: undefined,
  quick: false,
  common: {},
};

/** Whether every run of `results` is one of the study's own jobs (every field a job sets, equal). */
function ownRuns(study: StudyDefinition): (results: ProblemResults) => boolean {
  const jobs = study.jobs(OWN_SETTINGS).map((j) => Object.entries(j.config));
  return (results) =>
    results.runs.every((r) => {
      const config = r.config as unknown as Record<string, unknown>;
      return jobs.some((fields) => fields.every(([k, v]) => JSON.stringify(config[k]) === JSON.stringify(v)));
    });
}

/** A study joined with its page and answers. */
export async function withPage(study: StudyDefinition, dir: URL = STUDIES_DIR): Promise<ProblemDefinition> {
  const page = await pageOf(study.id);
  const source = new URL(`${study.id}/answers.md`, dir);
  const figures = page.figures;
  const answers = figures !== undefined && await exists(source)
    ? { source, figures, writtenFor: ownRuns(study) }
    : undefined;
  return { ...study, view: (results, context) => page.view(results, context), ...(answers ? { answers } : {}) };
}

/** Every study in `dir` with its page, in index order. */
export async function loadProblems(dir: URL = STUDIES_DIR): Promise<readonly ProblemDefinition[]> {
  return await Promise.all((await loadStudies(dir)).map((s) => withPage(s, dir)));
}
