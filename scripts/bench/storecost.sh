#!/usr/bin/env bash
# Cassandra's CPU per 1,000 stored events, today's sink against an older commit's, on a node of
# its own: one Cassandra (RF 1) pinned to CPU 1, the writer (scripts/bench/storecost) on CPU 0,
# RUNS alternated pairs of DURATION seconds at RATE events/s (the cluster benchmark's events), each counted
# from the first write until sessions are done, memtables flushed and no compaction pending.
#   bash scripts/bench/storecost.sh            (BASE=69fc32c RUNS=3 RATE=1000 DURATION=60; ~8 minutes)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/storecost
BASE=${BASE:-69fc32c} RUNS=${RUNS:-3} RATE=${RATE:-1000} DURATION=${DURATION:-60}
W=.scratch/bench/storecost
mkdir -p "$W"
export CASSANDRA_DIR=$ROOT/$W/cass SPOOR_CASSANDRA_PORT=19142 CASSANDRA_STORAGE_PORT=17100 CASSANDRA_JMX_PORT=17199 CASSANDRA_CPUS=1
bash scripts/cassandra.sh start
if [ ! -d "$W/base" ]; then git worktree add -f "$W/base" "$BASE" -q; fi
mkdir -p "$W/base/scripts/bench/storecost" && cp scripts/bench/storecost/main.go "$W/base/scripts/bench/storecost/"
(cd "$W/base" && go build -o ../storecost-base ./scripts/bench/storecost)
go build -o "$W/storecost" ./scripts/bench/storecost
P=$(cat "$CASSANDRA_DIR/cassandra.pid")
run() { taskset -c 0 "$W/$1" -hosts 127.0.0.1:19142 -cass-pid "$P" -nodetool "bash scripts/cassandra.sh nodetool" \
  -seconds "$DURATION" -rate "$RATE" -label "$1" 2>/dev/null | tail -1; }
run storecost >/dev/null # warm-up: the JIT
: > "$W/results.jsonl"
for r in $(seq "$RUNS"); do
  say "run $r of $RUNS"
  run storecost-base >> "$W/results.jsonl"
  run storecost >> "$W/results.jsonl"
done
python3 - "$W/results.jsonl" "$BASE" "$RATE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda k, f: statistics.median(r[f] for r in rows if r["label"] == k)
print("| sink | Cassandra CPU s per 1,000 events (median) | ratio | less idle (median) | ratio |\n|---|---|---|---|---|")
b, n = med("storecost-base", "cassandra_cpu_s_per_1000"), med("storecost", "cassandra_cpu_s_per_1000")
bn, nn = med("storecost-base", "cassandra_net_cpu_s_per_1000"), med("storecost", "cassandra_net_cpu_s_per_1000")
print(f"| {sys.argv[2]} | {b:.3f} | 1.00× | {bn:.3f} | 1.00× |")
print(f"| this tree | {n:.3f} | **{n/b:.2f}×** | {nn:.3f} | **{nn/bn:.2f}×** |")
print(f"({len(rows)//2} alternated pairs at {sys.argv[3]} events/s; runs (total / less idle / idle CPU s per s): " + ", ".join(
    f"{r['label']} {r['cassandra_cpu_s_per_1000']:.3f} / {r['cassandra_net_cpu_s_per_1000']:.3f} / {r['cassandra_idle_cpu_s_per_s']:.3f}" for r in rows) + ")")
PY
