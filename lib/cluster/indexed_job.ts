/**
 * The parts of a Kubernetes Indexed Job manifest (cluster/k8s/indexed_job.yaml) that decide which shard each pod
 * trains, read with the YAML subset reader: completion mode, completions, parallelism, the container's command,
 * args, env, working directory and volume mounts, and the volumes. `podArgs` expands `$(VAR)` in the args as
 * Kubernetes does (from the container's env plus JOB_COMPLETION_INDEX, which the Job controller sets per pod).
 */
import { parseYamlDocuments, type YamlValue } from "./yaml_subset.ts";

export interface IndexedJob {
  readonly name: string;
  readonly completionMode: string;
  readonly completions: number;
  readonly parallelism: number;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly workingDir: string | null;
  /** Mount path -> the PersistentVolumeClaim it mounts (null for another kind of volume). */
  readonly mounts: ReadonlyMap<string, string | null>;
  /** Names of the PersistentVolumeClaims the file itself defines. */
  readonly claims: readonly string[];
}

type YamlMap = { [key: string]: YamlValue };

function map(v: YamlValue | undefined, where: string): YamlMap {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`manifest: ${where} is not a mapping`);
  return v;
}

function list(v: YamlValue | undefined, where: string): YamlValue[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`manifest: ${where} is not a list`);
  return v;
}

function text(v: YamlValue | undefined, where: string): string {
  if (typeof v !== "string" && typeof v !== "number") throw new Error(`manifest: ${where} is missing`);
  return String(v);
}

/** The (single) Job of a manifest, with its (single) container. */
export function readIndexedJob(yaml: string): IndexedJob {
  const docs = parseYamlDocuments(yaml).map((d, i) => map(d, `document ${i + 1}`));
  const jobs = docs.filter((d) => d.kind === "Job");
  if (jobs.length !== 1) throw new Error(`manifest: expected one Job, found ${jobs.length}`);
  const job = jobs[0];
  const spec = map(job.spec, "Job spec");
  const pod = map(map(spec.template, "spec.template").spec, "spec.template.spec");
  const containers = list(pod.containers, "containers");
  if (containers.length !== 1) throw new Error(`manifest: expected one container, found ${containers.length}`);
  const c = map(containers[0], "container");
  const volumes = new Map<string, string | null>();
  for (const v of list(pod.volumes, "volumes")) {
    const vol = map(v, "volume");
    const pvc = vol.persistentVolumeClaim;
    volumes.set(text(vol.name, "volume name"), pvc === undefined ? null : text(map(pvc, "pvc").claimName, "claimName"));
  }
  const mounts = new Map<string, string | null>();
  for (const m of list(c.volumeMounts, "volumeMounts")) {
    const mount = map(m, "volumeMount");
    mounts.set(text(mount.mountPath, "mountPath"), volumes.get(text(mount.name, "volumeMount name")) ?? null);
  }
  const env = new Map<string, string>();
  for (const e of list(c.env, "env")) {
    const entry = map(e, "env entry");
    if (entry.value !== undefined) env.set(text(entry.name, "env name"), text(entry.value, "env value"));
  }
  const number = (v: YamlValue | undefined, where: string) => {
    if (typeof v !== "number") throw new Error(`manifest: ${where} must be a number`);
    return v;
  };
  return {
    name: text(map(job.metadata, "metadata").name, "metadata.name"),
    completionMode: text(spec.completionMode, "spec.completionMode"),
    completions: number(spec.completions, "spec.completions"),
    parallelism: number(spec.parallelism, "spec.parallelism"),
    command: list(c.command, "command").map((x) => text(x, "command")),
    args: list(c.args, "args").map((x) => text(x, "args")),
    env,
    workingDir: c.workingDir === undefined ? null : text(c.workingDir, "workingDir"),
    mounts,
    claims: docs.filter((d) => d.kind === "PersistentVolumeClaim").map((d) => text(map(d.metadata, "pvc").name, "pvc")),
  };
}

/** The args pod `index` runs: `$(NAME)` replaced from the env and JOB_COMPLETION_INDEX; `$$` stays `$`. */
export function podArgs(job: IndexedJob, index: number): string[] {
  const env = new Map(job.env);
  env.set("JOB_COMPLETION_INDEX", String(index));
  return job.args.map((a) =>
    a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name) => {
      if (whole === "$$") return "$";
      return env.has(name) ? env.get(name)! : whole; // Kubernetes leaves an unknown reference as written
    })
  );
}
