/**
 * The appendix of a homework PDF: the code that produced its results, in monospace with line numbers and each
 * file's path: every study's script (studies/<id>/study.ts), the model assembly (lib/models/model.ts, the model
 * table and the mixer registry) and the file of each mixer kind its runs' models use, then the paths of the
 * further files those import. The files are read from the working tree at the moment the PDF is made; the
 * appendix names the git commit and says whether any listed file differs from it.
 */
import { dirname, join, normalize } from "node:path";
import type { MixerKind } from "../models/mixers.ts";
import { modelSpec } from "../models/model_table.ts";
import type { ProblemDefinition } from "./pages.ts";
import type { ProblemResults } from "../store/results.ts";
import { escapeHtml } from "./format.ts";

/** The repository root (files are listed by their path from here). */
export const REPO_ROOT: string = new URL("../../", import.meta.url).pathname;

/** The file defining each mixer kind (the type makes a new kind in MIXERS wait for its entry here). */
export const MIXER_SOURCES: Readonly<Record<MixerKind, string>> = {
  attention: "lib/models/attention_mixer.ts",
  mamba: "lib/models/mamba_mixer.ts",
};

/** How every model is assembled: listed for every homework. */
export const MODEL_ASSEMBLY: readonly string[] = [
  "lib/models/model.ts",
  "lib/models/model_table.ts",
  "lib/models/mixers.ts",
  "lib/models/mixer.ts",
];

/** The files to list for these problems and their results, in reading order, each once. */
export function listedFiles(problems: readonly { problem: ProblemDefinition; results: ProblemResults }[]): string[] {
  const kinds = new Set<MixerKind>();
  for (const { results } of problems) {
    for (const r of results.runs) for (const kind of modelSpec(r.config.model).mixers) kinds.add(kind);
  }
  const mixers = (Object.keys(MIXER_SOURCES) as MixerKind[]).filter((k) => kinds.has(k)).map((k) => MIXER_SOURCES[k]);
  return [
    ...new Set([...problems.map(({ problem }) => `studies/${problem.id}/study.ts`), ...MODEL_ASSEMBLY, ...mixers]),
  ];
}

/** Repository files imported (relative imports) by `files` and not among them, sorted. */
export async function importedFiles(files: readonly string[], root: string = REPO_ROOT): Promise<string[]> {
  const found = new Set<string>();
  for (const file of files) {
    const text = await Deno.readTextFile(join(root, file));
    for (const m of text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)) {
      found.add(normalize(join(dirname(file), m[1])));
    }
  }
  return [...found].filter((f) => !files.includes(f)).sort();
}

/** The commit the working tree is on, and which of `files` differ from it; null outside a git checkout. */
export async function gitState(
  files: readonly string[],
  root: string = REPO_ROOT,
): Promise<{ commit: string; changed: string[] } | null> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: root, stdout: "piped", stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  };
  try {
    const commit = (await git("rev-parse", "--short=12", "HEAD"))?.trim();
    if (!commit) return null;
    const status = await git("status", "--porcelain", "--", ...files);
    const changed = (status ?? "").split("\n").filter((l) => l.length > 3).map((l) => l.slice(3).trim());
    return { commit, changed };
  } catch {
    return null; // no git on this machine
  }
}

function listingHtml(file: string, text: string): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const width = String(lines.length).length;
  const body = lines.map((line, i) => `<span class="ln">${String(i + 1).padStart(width)}</span> ${escapeHtml(line)}`)
    .join("\n");
  return `<section class="listing"><h3><code>${escapeHtml(file)}</code> <span class="lines">(${lines.length} ` +
    `lines)</span></h3><pre><code>${body}</code></pre></section>`;
}

/** The appendix: what is listed and from which commit, the listings, and the further files they import. */
export async function appendixHtml(files: readonly string[], root: string = REPO_ROOT): Promise<string> {
  const git = await gitState(files, root);
  const origin = git === null
    ? "from the working tree (not a git checkout, so no commit can be named)"
    : `from the working tree at commit <code>${escapeHtml(git.commit)}</code>${
      git.changed.length === 0
        ? ", with no uncommitted change to them"
        : `; <strong>uncommitted changes</strong> in ${
          git.changed.map((f) => `<code>${escapeHtml(f)}</code>`).join(", ")
        }`
    }`;
  const listings: string[] = [];
  for (const file of files) listings.push(listingHtml(file, await Deno.readTextFile(join(root, file))));
  const imported = await importedFiles(files, root);
  return `<section class="appendix"><h1>Appendix: the code that produced these results</h1>
<p>The problem script (the runs it plans and the report it draws), the model assembly (a model is its row of the ` +
    `model table: a list of mixers around embeddings, LayerNorms and the readout) and the mixers these runs' ` +
    `models use, listed ${origin}. Paths are from the repository root.</p>
${listings.join("\n")}
<h2>Further files these import</h2><p>Not listed here; in the repository: ${
      imported.map((f) => `<code>${escapeHtml(f)}</code>`).join(", ")
    }.</p></section>`;
}
