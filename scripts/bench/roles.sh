#!/usr/bin/env bash
# Each role of the cluster (scripts/cluster.sh: 3 NATS at R3, 3 Cassandra at RF 3, 2 collectors, 2
# sinks, 3 partitions) measured on a core of its own: the members of the role under test are pinned
# to CPU 1 (taskset), every other member and the load generator to CPU 0, one role at a time, and the
# cluster's usual load (single events with client ids, as cluster.sh sends) runs at RATE events/s for
# DURATION seconds. Each member's idle CPU is measured for 15 s before the load and subtracted, then the CPU
# seconds it spent per 1,000 events stored (load, drain, and the sessionizer's delayed work) are reported. A "shared" arm, with every
# member free to use both cores, runs in the same session at the same rate for the comparison.
# RUNS rounds of the five arms, medians into .scratch/bench/roles/roles.json; scripts/bench/sizing.py
# builds its dedicated-core table from that file.
#   bash scripts/bench/roles.sh            (RUNS=3 RATE=300 DURATION=30; ~25 minutes with the cluster's start)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/roles
RUNS=${RUNS:-3} RATE=${RATE:-300} DURATION=${DURATION:-30}
W=.scratch/bench/roles
mkdir -p "$W"
go build -o "$W/loadgen" ./scripts/bench/loadgen
go build -o "$W/cql" ./scripts/cql
CL=.scratch/cluster
port_open 127.0.0.1 18181 || bash scripts/cluster.sh start
CQL="$W/cql -hosts 127.0.0.1:29042,127.0.0.2:29042,127.0.0.3:29042"
MEMBERS="collector1 collector2 sink1 sink2 nats1 nats2 nats3 cass1 cass2 cass3"
pid() { case $1 in cass*) cat "$CL/$1/cassandra.pid" ;; *) cat "$CL/pids/$1.pid" ;; esac; }
ticks() { awk '{print $14+$15}' "/proc/$(pid "$1")/stat"; }
cpus() { for m in $MEMBERS; do printf '%s=%s ' "$m" "$(ticks "$m")"; done; }
pin() { # ROLE: its members on CPU 1, everyone else on CPU 0; "shared": everyone on both
  local m
  for m in $MEMBERS; do
    local cpu=0
    if [ "$1" = shared ]; then cpu=0,1; elif [[ $m == "$1"* ]]; then cpu=1; fi
    taskset -a -p -c "$cpu" "$(pid "$m")" >/dev/null
  done
}
# shellcheck source=scripts/bench/clusterlib.sh
. scripts/bench/clusterlib.sh
trap 'pin shared 2>/dev/null || true' EXIT
: > "$W/runs.jsonl"
for run in $(seq "$RUNS"); do
  for role in shared collector sink nats cass; do
    pin "$role"
    until [ "$(backlog)" = 0 ]; do sleep 1; done
    sleep 5
    idle0=$(cpus); t0=$(date +%s.%N); sleep 15; idle1=$(cpus); t1=$(date +%s.%N)
    app="roles_${role}_r${run}_$(date +%s)"
    before=$(cpus); tb=$(date +%s.%N)
    for i in 1 2; do
      taskset -c 0 "$W/loadgen" -url "http://127.0.0.1:$((18180 + i))/tr/v1/" -rate $((RATE / 2)) -duration "${DURATION}s" -app "$app" -client-ids > "$W/load.$i.json" &
    done
    wait
    for _ in $(seq 600); do [ "$(backlog)" = 0 ] && break; sleep 1; done
    sleep 40 # the sessionizer's work on the last events (cassandra.sessions_delay, 30 s) belongs to this run
    after=$(cpus); ta=$(date +%s.%N)
    stored=$(rows "$app")
    python3 - "$role" "$run" "$stored" "$idle0" "$idle1" "$t0" "$t1" "$before" "$after" "$tb" "$ta" "$(getconf CLK_TCK)" >> "$W/runs.jsonl" <<'PY'
import json, sys
role, run, stored = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
parse = lambda s: {k: float(v) for k, v in (kv.split("=") for kv in s.split())}
i0, i1, b, a = (parse(x) for x in sys.argv[4:6] + sys.argv[8:10])
t0, t1, tb, ta, tck = (float(x) for x in sys.argv[6:8] + sys.argv[10:13])
idle = {k: (i1[k] - i0[k]) / tck / (t1 - t0) for k in a}                  # CPU s per s, idle
used = {k: (a[k] - b[k]) / tck for k in a}                                 # CPU s during load and drain
net = {k: max(used[k] - idle[k] * (ta - tb), 0) / stored * 1000 for k in a}  # per 1,000 events, less idle
print(json.dumps({"role": role, "run": run, "stored": stored, "seconds": round(ta - tb, 1),
                  "cpu_per_1k": {k: round(v, 4) for k, v in net.items()},
                  "idle_cpu_s_per_s": {k: round(v, 4) for k, v in idle.items()}}))
PY
    say "run $run, $role on its own core: $(tail -1 "$W/runs.jsonl" | cut -c1-300)"
  done
done
pin shared
python3 - "$W" "$RATE" <<'PY'
import json, statistics, sys
w, rate = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(f"{w}/runs.jsonl")]
roles = ("collector", "sink", "nats", "cass")
role_cpu = lambda r, role: sum(v for k, v in r["cpu_per_1k"].items() if k.startswith(role))
out = {"rate": int(rate), "runs": len(rows) // 5,
       "dedicated": {role: statistics.median(role_cpu(r, role) for r in rows if r["role"] == role) for role in roles},
       "shared": {role: statistics.median(role_cpu(r, role) for r in rows if r["role"] == "shared") for role in roles}}
json.dump(out, open(f"{w}/roles.json", "w"), indent=1)
print("| role | shared cores: CPU s per 1,000 events | events/s per core | own core: CPU s per 1,000 events | events/s per core | own ÷ shared |")
print("|---|---|---|---|---|---|")
names = {"collector": "collectors (2)", "sink": "sinks (2)", "nats": "NATS (3, R3)", "cass": "Cassandra (3, RF 3)"}
for role in roles:
    s, d = out["shared"][role], out["dedicated"][role]
    print(f"| {names[role]} | {s:.3f} | {1000 / s:,.0f} | {d:.3f} | {1000 / d:,.0f} | {d / s:.2f}× |")
PY
python3 - "$W" "$RATE" "$DURATION" <<'PY' > "$W/table.md"
import json, sys, datetime
w, rate, secs = sys.argv[1:4]
r = json.load(open(f"{w}/roles.json"))
print(f"Measured {datetime.date.today()} by `bash scripts/bench/roles.sh`: the cluster of scripts/cluster.sh (2 collectors, 2 sinks, "
      f"3 NATS at R3 with 3 partitions, 3 Cassandra at RF 3), {rate} events/s of single events with client ids for {secs} s, "
      f"medians of {r['runs']} runs. *Own core*: the role's members pinned to CPU 1, everything else and the load to CPU 0. "
      "*Shared*: every member on both cores, in the same session. CPU seconds per 1,000 events stored, each member's idle CPU "
      "(measured for 15 s before the load) subtracted.\n")
print("| role | shared cores: CPU s per 1,000 events | events/s per core | own core: CPU s per 1,000 events | events/s per core | own ÷ shared |")
print("|---|---|---|---|---|---|")
names = {"collector": "collectors (2)", "sink": "sinks (2)", "nats": "NATS (3, R3)", "cass": "Cassandra (3, RF 3)"}
for role in ("collector", "sink", "nats", "cass"):
    s, d = r["shared"][role], r["dedicated"][role]
    print(f"| {names[role]} | {s:.3f} | {1000 / s:,.0f} | {d:.3f} | {1000 / d:,.0f} | {d / s:.2f}× |")
PY
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" roles
# The sizing model in docs/operations.md, from these figures (and the last cluster run's bytes).
python3 scripts/bench/sizing.py .scratch/bench/cluster "$W/roles.json" .scratch/bench/nats/nats.json > "$W/sizing.md"
python3 - "$W/sizing.md" <<'PY'
import re, sys
doc = "docs/operations.md"
text = open(doc).read()
text = re.sub(r"<!-- SIZING -->.*", lambda m: "<!-- SIZING -->\n" + open(sys.argv[1]).read(), text, flags=re.S)
open(doc, "w").write(text)
PY
