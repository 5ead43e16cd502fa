/**
 * The README's own launcher, `npx --yes deno@2.9.6 task p1`, and stopping it: npm passes no signal on to the sweep
 * (npx -> sh -> deno task -> the sweep), so a sweep watches the npx above it and stops, keeping finished runs, when
 * npx ends (SIGTERM on it), instead of training on detached. Skipped with one line when npx cannot start Deno here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./fixtures/spawn.ts";
import { withTempDir } from "./fixtures/temp_dir.ts";

const NPX = ["npx", "--yes", "deno@2.9.6"];
const probe = await new Deno.Command("sh", {
  args: ["-c", `${NPX.join(" ")} --version`],
  stdout: "null",
  stderr: "null",
})
  .output().catch(() => null);
const ok = probe?.success === true;
if (!ok) console.error("launcher_test: ignored: npx cannot start deno@2.9.6 here");

/** Whether a process whose command line contains `text` is running (read from /proc, no pgrep needed). */
function processRunning(text: string): boolean {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ").includes(text)) return true;
    } catch { /* gone meanwhile */ }
  }
  return false;
}

async function waitFor(what: () => Promise<boolean>, seconds: number): Promise<boolean> {
  for (let t = 0; t < seconds * 10; t++) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

Deno.test({
  name: "SIGTERM on the README's npx command stops the sweep and its workers, keeping finished runs",
  ignore: !ok,
  async fn() {
    await withTempDir(async (dir) => {
      const log = join(dir, "log"), pidFile = join(dir, "npx.pid"), out = join(dir, "reports");
      const script = `cd ${ROOT} && (${
        NPX.join(" ")
      } task p1 --quick --out ${out} > ${log} 2>&1 & echo $! > ${pidFile}; wait)`;
      const shell = new Deno.Command("sh", { args: ["-c", script], stdout: "null", stderr: "null" }).spawn();
      const started = await waitFor(
        async () => (await Deno.readTextFile(log).catch(() => "")).includes("training (key"),
        60,
      );
      assert.ok(started, "the sweep started");
      const pid = Number((await Deno.readTextFile(pidFile)).trim());
      Deno.kill(pid, "SIGTERM");
      const stopped = await waitFor(() => Promise.resolve(!processRunning(`problem.ts p1 --quick --out ${out}`)), 20);
      await shell.status;
      const text = await Deno.readTextFile(log);
      assert.ok(stopped, `the sweep went on after its launcher ended:\n${text}`);
      assert.match(text, /the end of its launcher \(npx, pid \d+\): stopping/);
    });
  },
});
