/**
 * `deno task answers`: a study's authored answers (studies/<id>/answers.md) with their numbers filled and their checks
 * held against the runs present now, printed as text: the author's draft view while a sweep is still running (the
 * page and the PDF show the answers only once every planned run is in). No training, nothing written.
 */
import { join } from "node:path";
import { loadProblems } from "../site/pages.ts";
import { readAllResults } from "../site/write.ts";
import { readProbes, readStudyProbes } from "../probes/probe_file.ts";
import { readLongs } from "../probes/long_file.ts";
import { fill } from "../site/checked_text.ts";
import { ANSWER_FORMATS, answerFunctions } from "../site/answer_functions.ts";
import { cliMain, type FlagSpec, parseFlags, UsageError } from "./flags.ts";

const USAGE = `deno task answers --problem <id> [flags]

Print studies/<id>/answers.md with every number computed and every check held against the runs in <out>/<id> now,
finished or not (a check that fails, or a number some seed lacks, names its sentence and exits 1). For writing the
answers while a sweep runs.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder holding one folder per problem." },
  { name: "problem", type: "string", default: "p1", help: "The study whose answers to fill." },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const out = f.out as string, id = f.problem as string;
  const problems = await loadProblems();
  const problem = problems.find((p) => p.id === id);
  if (problem === undefined) throw new UsageError(`--problem must be one of ${problems.map((p) => p.id).join(", ")}`);
  if (problem.answers === undefined) throw new UsageError(`studies/${id}/answers.md does not exist`);
  const all = await readAllResults(out, problems, () => {});
  const results = all.get(id);
  if (results === undefined) throw new UsageError(`no results in ${join(out, id)}`);
  const dir = join(out, id);
  const sources = {
    studies: all,
    probes: await readProbes(dir, results.runs),
    long: await readLongs(dir, results.runs),
    studyProbes: await readStudyProbes(out, all),
  };
  const text = fill(
    await Deno.readTextFile(problem.answers.source),
    `${id}/answers.md`,
    answerFunctions(results.runs, sources),
    ANSWER_FORMATS,
  );
  console.error(`${results.runs.length} of ${results.planned} runs are in`);
  console.log(text);
});
