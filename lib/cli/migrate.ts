/**
 * `deno task migrate`: bring every run file under --out to the current results schema and run keys, in place
 * and without retraining (lib/runs/migrate.ts). Run it after a schema or key change; it is idempotent.
 */
import { migrateTree } from "../runs/migrate.ts";
import { cliMain, type FlagSpec, parseFlags } from "./flags.ts";

const USAGE = `deno task migrate [flags]

Rewrite the run files, results.json files and loose run files under <out> to the current schema and keys
(new keys from the stored configs; no training). Safe to run twice.`;

const FLAGS: readonly FlagSpec[] = [
  { name: "out", type: "dir", default: "reports", help: "Folder to migrate (searched recursively)." },
];

await cliMain(async () => {
  const f = parseFlags(Deno.args, FLAGS, USAGE);
  if (!f) return;
  const report = await migrateTree(f.out as string, (line) => console.error(line));
  console.error(
    `migrated ${f.out}: ${report.runFiles} run files, ${report.resultsFiles} results files, ${report.looseFiles} ` +
      `loose run files; ${report.unchanged} already current`,
  );
});
