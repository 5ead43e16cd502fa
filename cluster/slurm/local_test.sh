#!/usr/bin/env bash
# `deno task cluster-test`: cluster/slurm/sweep.sbatch on a real Slurm. Starts a single-node Slurm on this machine
# (Debian's slurm-wlm and munge, installed here when missing and we are root; slurmctld and slurmd on 127.0.0.1,
# ports 16817/16818, every file in a temporary folder), submits `p1 --quick` as a 3-task job array into a
# temporary --out, waits for it, checks the merged results (results.json and `deno task plan`) against a
# single-machine `p1 --quick`, and stops the daemons it started (trap), whatever happens. Not part of
# `deno task test`. KEEP=1 keeps the temporary folder (logs, results).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
shards=3
timeout_s=${CLUSTER_TEST_TIMEOUT:-900}

say() { echo "cluster-test: $*"; }
fail() {
  echo "cluster-test: FAILED: $*" >&2
  exit 1
}

if [[ -n "${RECALL_LAB_DENO:-}" ]]; then
  read -r -a deno <<<"$RECALL_LAB_DENO"
elif command -v deno >/dev/null 2>&1; then
  deno=("$(command -v deno)")
else
  deno=(npx --yes deno@2.9.6)
fi
export RECALL_LAB_DENO="${deno[*]}"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    fail "Slurm is not installed: as root, apt-get install -y slurm-wlm munge (or run this script as root)"
  fi
  say "installing slurm-wlm and munge (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi
[[ $(id -u) -eq 0 ]] || fail "run as root: slurmd runs the jobs as their user and needs root to do so"

work=$(mktemp -d /tmp/recall-lab-slurm.XXXXXX)
host=$(hostname -s)
conf=$work/slurm.conf
export SLURM_CONF=$conf
ctld_pid="" slurmd_pid="" munged_started="" job=""

cleanup() {
  local code=$?
  set +e
  if [[ -n "$job" ]] && squeue -h -j "$job" 2>/dev/null | grep -q .; then scancel "$job"; fi
  for pid in $slurmd_pid $ctld_pid; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [[ -n "$munged_started" ]]; then
    kill "$munged_started" 2>/dev/null
    for _ in $(seq 1 50); do
      kill -0 "$munged_started" 2>/dev/null || break
      sleep 0.1
    done
  fi
  say "stopped the daemons it started (slurmd ${slurmd_pid:-none}, slurmctld ${ctld_pid:-none}, munged ${munged_started:-not started here})"
  if [[ "${KEEP:-}" == 1 || $code -ne 0 ]]; then say "kept $work"; else rm -rf "$work"; fi
  exit $code
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# munge: reuse a running munged, else start one as the munge user (it needs /run/munge and its log folder).
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running; using it"
else
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  munged_started=$(cat /run/munge/munged.pid)
  munge -n | unmunge >/dev/null || fail "munged started but a credential does not decode"
  say "started munged (pid $munged_started)"
fi

mkdir -p "$work/state" "$work/spool"
cat >"$conf" <<CONF
ClusterName=recalllab
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -f "$conf" >"$work/slurmctld.stdout" 2>&1 &
ctld_pid=$!
slurmd -D -f "$conf" -N "$host" >"$work/slurmd.stdout" 2>&1 &
slurmd_pid=$!
say "started slurmctld (pid $ctld_pid) and slurmd (pid $slurmd_pid), Slurm $(slurmctld -V | cut -d' ' -f2), node $host CPUs=2"

state=""
for _ in $(seq 1 60); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
  [[ "$state" == idle* ]] && break
  if [[ "$state" == down* || "$state" == drain* ]]; then scontrol update nodename="$host" state=resume 2>/dev/null || true; fi
  sleep 1
done
[[ "$state" == idle* ]] || {
  tail -20 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  fail "node $host is \"$state\", not idle, after 60 s"
}
say "node $host is idle"

"${deno[@]}" install >/dev/null 2>&1 || true # node_modules once, before the tasks start
out=$work/out
job=$(sbatch --parsable --array=0-$((shards - 1)) --cpus-per-task=1 --output="$work/task-%A_%a.out" \
  cluster/slurm/sweep.sbatch p1 --quick --out "$out" --jobs 1)
say "submitted job array $job: sbatch --array=0-$((shards - 1)) cluster/slurm/sweep.sbatch p1 --quick --out $out --jobs 1"

t0=$SECONDS
while squeue -h -j "$job" 2>/dev/null | grep -q .; do
  ((SECONDS - t0 < timeout_s)) || fail "job $job still queued or running after $timeout_s s"
  sleep 2
done
say "job array $job left the queue after $((SECONDS - t0)) s"

bad=0
for k in $(seq 0 $((shards - 1))); do
  line=$(scontrol -o show job "${job}_${k}" 2>/dev/null | grep -o 'JobState=[A-Z_]* .*ExitCode=[0-9:]*' | head -1 || true)
  log=$work/task-${job}_${k}.out
  say "task $k: ${line:-no record}"
  [[ -f "$log" ]] && sed 's/^/    | /' <(grep -v ' step [0-9]*/' "$log")
  [[ "$line" == JobState=COMPLETED*ExitCode=0:0 ]] || bad=1
done
((bad == 0)) || fail "not every array task completed with exit code 0"

say "deno task plan p1 --quick --out $out --shards $shards:"
"${deno[@]}" run -A lib/cli/plan.ts p1 --quick --out "$out" --shards "$shards" --json >"$work/plan.jsonl"
cat "$work/plan.jsonl" | grep '"kind":"\(shard\|total\)"' | sed 's/^/    /'

say "single-machine deno task p1 --quick for comparison"
"${deno[@]}" run -A lib/cli/problem.ts p1 --quick --out "$work/single" --jobs 2 >/dev/null 2>"$work/single.log" ||
  fail "the single-machine run failed (see $work/single.log)"

"${deno[@]}" eval --ext=ts "
import { TIMING_FIELDS } from '$root/lib/store/results.ts';
const read = (p: string) => JSON.parse(Deno.readTextFileSync(p));
const strip = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (TIMING_FIELDS as readonly string[]).includes(k) ? undefined : v));
const merged = read('$out/p1/results.json'), single = read('$work/single/p1/results.json');
const lines = Deno.readTextFileSync('$work/plan.jsonl').trim().split('\n').map((l) => JSON.parse(l));
const total = lines.find((l) => l.kind === 'total');
const perShard = lines.filter((l) => l.kind === 'shard');
const claims = [...Deno.readDirSync('$out/p1/runs')].filter((e) => e.name.endsWith('.claim') || e.name.endsWith('.lock'));
const checks: [string, boolean][] = [
  ['plan: 10 planned, 10 finished, 0 claimed, 0 pending', total.planned === 10 && total.finished === 10 && total.claimed === 0 && total.pending === 0],
  ['plan: every shard finished all its runs', perShard.length === $shards && perShard.every((s) => s.runs > 0 && s.finished === s.runs)],
  ['results.json: 10 of 10 planned runs, nothing pending', merged.runs.length === 10 && merged.planned === 10 && merged.pending === undefined],
  ['results.json: the command without --shard', merged.command === 'deno task p1 --quick --out $out --jobs 1'],
  ['no claim or lock file left', claims.length === 0],
  ['merged results.json equals the single-machine run apart from timing fields and --out', JSON.stringify(strip({ ...merged, command: '' })) === JSON.stringify(strip({ ...single, command: '' }))],
];
for (const [what, ok] of checks) console.log('cluster-test: ' + (ok ? 'ok   ' : 'FAIL ') + what);
if (!checks.every(([, ok]) => ok)) Deno.exit(1);
" || fail "the merged results do not check out (KEEP: $work)"
say "PASSED: p1 --quick as a $shards-task Slurm job array into one --out merged into the single-machine results"
