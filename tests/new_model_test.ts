/**
 * A new model is one row of the model table: in a copy of the code with one more row (an attention layer after a
 * Mamba one, the Hybrid's mirror image), Problem 1's quick sweep trains it end to end beside the others, with the
 * model table's default recipe (its settings are not screened), and its page shows it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./fixtures/spawn.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";

const ROW = `  "attn-mamba": {
    mixers: ["attention", "mamba"],
    pe: "none",
    recipe: { ...MAMBA_RECIPE, heads: 2 },
    color: "#7f7f7f",
    label: "Attention, then Mamba",
  },
} as const satisfies Record<string, ModelSpec>;`;

async function copyTree(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

Deno.test("a model added as one row of the model table trains through Problem 1's quick sweep and is on its page", async () => {
  await withTempDir(async (dir) => {
    for (const part of ["lib", "studies", "deno.json", "deno.lock"]) await copyTree(join(ROOT, part), join(dir, part));
    await Deno.symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
    const table = join(dir, "lib", "models", "model_table.ts");
    const text = await Deno.readTextFile(table);
    const end = "} as const satisfies Record<string, ModelSpec>;";
    assert.ok(text.includes(end), "the table's closing line");
    await Deno.writeTextFile(table, text.replace(end, ROW));
    const out = join(dir, "reports");
    const r = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        join(dir, "lib", "cli", "problem.ts"),
        "p1",
        "--quick",
        "--steps",
        "30",
        "--out",
        out,
      ],
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const results = JSON.parse(await Deno.readTextFile(join(out, "p1", "results.json")));
    // (checked against the copy's model table by the sweep that wrote it; this process's table lacks the row)
    const mine = results.runs.filter((run: { config: { model: string } }) => run.config.model === "attn-mamba");
    assert.equal(mine.length, 2, "one run per delay");
    assert.ok(mine.every((run: { config: { lr: number } }) => run.config.lr === 0.01), "quick mode's lr");
    const page = await Deno.readTextFile(join(out, "p1", "index.html"));
    assert.ok(page.includes("attn-mamba"), "the page shows the new model");
  });
});
