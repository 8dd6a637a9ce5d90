#!/usr/bin/env bash
# Cassandra's CPU per 1,000 stored events, today's sink against an older commit's, on a node of
# its own: one Cassandra (RF 1) pinned to CPU 1, the writer (scripts/bench/storecost) on CPU 0,
# RUNS alternated pairs of DURATION seconds at RATE events/s (the cluster benchmark's events), each counted
# from the first write until sessions are done, memtables flushed and no compaction pending.
# Each side runs on its node set-up (scripts/cassandra.sh's CASSANDRA_MEMTABLE): NODE_BASE for BASE
# (skiplist, the set-up of 69fc32c), NODE_TREE for this tree (trie); when they differ the node is
# restarted with the side's set-up before each of its runs (same data directory, the keyspace is
# dropped and created by every run).
#   bash scripts/bench/storecost.sh            (BASE=69fc32c RUNS=3 RATE=1000 DURATION=60; ~8 minutes, ~11 with restarts)
#   BASE=HEAD NODE_BASE=skiplist bash scripts/bench/storecost.sh     (the node set-up alone)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/storecost
BASE=${BASE:-69fc32c} RUNS=${RUNS:-3} RATE=${RATE:-1000} DURATION=${DURATION:-60}
NODE_BASE=${NODE_BASE:-skiplist} NODE_TREE=${NODE_TREE:-trie}
W=.scratch/bench/storecost
mkdir -p "$W"
export CASSANDRA_DIR=$ROOT/$W/cass SPOOR_CASSANDRA_PORT=19142 CASSANDRA_STORAGE_PORT=17100 CASSANDRA_JMX_PORT=17199 CASSANDRA_CPUS=1
SHA=$(git rev-parse --short "$BASE")
if [ ! -d "$W/base-$SHA" ]; then git worktree add -f --detach "$W/base-$SHA" "$SHA" -q; fi
mkdir -p "$W/base-$SHA/scripts/bench/storecost" && cp scripts/bench/storecost/main.go "$W/base-$SHA/scripts/bench/storecost/"
(cd "$W/base-$SHA" && go build -o ../storecost-base ./scripts/bench/storecost)
go build -o "$W/storecost" ./scripts/bench/storecost
NODE=
node() { # SETUP: (re)start the node with that memtable set-up unless it runs with it
  if [ "$NODE" = "$1" ]; then return 0; fi
  bash scripts/cassandra.sh stop >/dev/null 2>&1 || true
  CASSANDRA_MEMTABLE=$1 bash scripts/cassandra.sh start
  NODE=$1
}
run() { # BINARY SETUP
  if [ "$NODE" != "$2" ]; then # a fresh JVM: warm its JIT up with this side's writes first
    node "$2"
    taskset -c 0 "$W/$1" -hosts 127.0.0.1:19142 -cass-pid "$(cat "$CASSANDRA_DIR/cassandra.pid")" -seconds 15 -rate "$RATE" -idle 0 >/dev/null 2>&1
  fi
  taskset -c 0 "$W/$1" -hosts 127.0.0.1:19142 -cass-pid "$(cat "$CASSANDRA_DIR/cassandra.pid")" -nodetool "bash scripts/cassandra.sh nodetool" \
  -seconds "$DURATION" -rate "$RATE" -label "$1" 2>/dev/null | tail -1
  if [ "$NODE_BASE" != "$NODE_TREE" ]; then NODE=; fi # a fresh node for every run, on both sides
}
[ "$NODE_BASE" != "$NODE_TREE" ] || run storecost "$NODE_TREE" >/dev/null # warm-up: the JIT (a restart per run warms up within it)
: > "$W/results.jsonl"
for r in $(seq "$RUNS"); do
  say "run $r of $RUNS"
  run storecost-base "$NODE_BASE" >> "$W/results.jsonl"
  run storecost "$NODE_TREE" >> "$W/results.jsonl"
done
python3 - "$W/results.jsonl" "$BASE ($NODE_BASE memtables)" "$RATE" "$NODE_TREE" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda k, f: statistics.median(r[f] for r in rows if r["label"] == k)
print("| sink | Cassandra CPU s per 1,000 events (median) | ratio | less idle (median) | ratio |\n|---|---|---|---|---|")
b, n = med("storecost-base", "cassandra_cpu_s_per_1000"), med("storecost", "cassandra_cpu_s_per_1000")
bn, nn = med("storecost-base", "cassandra_net_cpu_s_per_1000"), med("storecost", "cassandra_net_cpu_s_per_1000")
print(f"| {sys.argv[2]} | {b:.3f} | 1.00× | {bn:.3f} | 1.00× |")
print(f"| this tree ({sys.argv[4]} memtables) | {n:.3f} | **{n/b:.2f}×** | {nn:.3f} | **{nn/bn:.2f}×** |")
print(f"({len(rows)//2} alternated pairs at {sys.argv[3]} events/s; runs (total / less idle / idle CPU s per s): " + ", ".join(
    f"{r['label']} {r['cassandra_cpu_s_per_1000']:.3f} / {r['cassandra_net_cpu_s_per_1000']:.3f} / {r['cassandra_idle_cpu_s_per_s']:.3f}" for r in rows) + ")")
PY
