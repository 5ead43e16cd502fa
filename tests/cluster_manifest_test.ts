import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./fixtures/spawn.ts";
import { parseYamlDocuments } from "./fixtures/yaml_subset.ts";
import { podArgs, readIndexedJob } from "./fixtures/indexed_job.ts";
import { loadProblems } from "../lib/site/pages.ts";
import { parseProblemFlags, type ProblemPlan, problemPlan } from "../lib/cli/problem.ts";
import { shardsOfPlan } from "../lib/store/shard.ts";

const MANIFEST = join(ROOT, "cluster", "k8s", "indexed_job.yaml");

Deno.test("the YAML subset reader reads mappings, lists of mappings, scalars, comments and documents", () => {
  const docs = parseYamlDocuments(`# header
a: 1
b: "two # not a comment"   # a comment
c:
  - x
  - 'it''s'
  - name: n
    value: "3"
  -
    deep: true
d:
- 5
e: []
f: ~
---
g: -A
`);
  assert.deepEqual(docs, [
    {
      a: 1,
      b: "two # not a comment",
      c: ["x", "it's", { name: "n", value: "3" }, { deep: true }],
      d: [5],
      e: [],
      f: null,
    },
    { g: "-A" },
  ]);
  assert.throws(() => parseYamlDocuments("a:\n  b: 1\n   c: 2\n"), /line 3: unexpected indentation/);
  assert.throws(() => parseYamlDocuments("a: &anchor 1\n"), /line 1: this form is outside the supported subset/);
  assert.throws(() => parseYamlDocuments("a: |\n  text\n"), /line 1/);
  assert.throws(() => parseYamlDocuments("a: 1\na: 2\n"), /line 2: duplicate key a/);
  assert.throws(() => parseYamlDocuments("a:\n\t- 1\n"), /tabs/);
});

Deno.test("the Indexed Job runs N pods, pod k as --shard k/N, with --out on the shared volume claim", async () => {
  const job = readIndexedJob(await Deno.readTextFile(MANIFEST));
  assert.equal(job.completionMode, "Indexed");
  const n = job.completions;
  assert.ok(n >= 2, `completions ${n}`);
  assert.equal(job.parallelism, n, "parallelism = completions: every shard runs at once");
  assert.deepEqual(job.command, ["deno", "run", "-A", "lib/cli/problem.ts"]);
  const problems = await loadProblems();
  for (let k = 0; k < n; k++) {
    const [id, ...argv] = podArgs(job, k);
    const problem = problems.find((p) => p.id === id);
    assert.ok(problem, `the first arg names a problem, got ${id}`);
    const parsed = parseProblemFlags(argv, "", problem.defaultSeeds);
    assert.deepEqual(parsed!.settings.shard, { index: k, count: n }, `pod ${k}: ${argv.join(" ")}`);
    const out = parsed!.settings.out;
    const mount = [...job.mounts.keys()].find((m) => out === m || out.startsWith(`${m}/`));
    assert.ok(mount, `--out ${out} is on a mounted volume`);
    const claim = job.mounts.get(mount);
    assert.ok(claim !== null && job.claims.includes(claim!), `${mount} mounts the PersistentVolumeClaim defined here`);
    assert.ok(job.workingDir?.startsWith(`${mount}/`), "the repository is on the shared volume too");
  }
  // An index outside 0..N-1 is not a shard (the parser refuses it), and the index is not fixed in the file.
  assert.throws(() => parseProblemFlags(podArgs(job, n).slice(1), ""), /--shard must be i\/N/);
  assert.ok(job.args.some((a) => a.includes("$(JOB_COMPLETION_INDEX)")));
});

Deno.test("every planned run of the manifest's sweep and of p1 --quick lands in exactly one pod's shard", async () => {
  const job = readIndexedJob(await Deno.readTextFile(MANIFEST));
  const problems = await loadProblems();
  const n = job.completions;
  for (const extra of [[], ["--quick"]]) {
    const plans: ProblemPlan[] = [];
    for (let k = 0; k < n; k++) {
      const [id, ...argv] = podArgs(job, k);
      const problem = problems.find((p) => p.id === id)!;
      plans.push(
        await problemPlan(problem, parseProblemFlags([...argv, ...extra], "", problem.defaultSeeds)!.settings),
      );
    }
    const keys = plans[0].keys;
    assert.ok(plans.every((p) => p.keys.join() === keys.join()), "every pod plans the same runs");
    const shards = shardsOfPlan(plans[0].jobs, keys, n);
    keys.forEach((key, i) => {
      const pods = plans.flatMap((p, k) => p.selected[i] ? [k] : []);
      assert.deepEqual(pods, [shards[i]], `run ${i} (${key}) is trained by pods ${pods}`);
    });
    if (extra.length > 0) assert.equal(keys.length, 10, "p1 --quick plans 10 runs");
    assert.ok(plans.every((p) => p.selected.some((x) => x)), "no pod is idle");
  }
});
