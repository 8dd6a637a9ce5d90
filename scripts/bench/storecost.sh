#!/usr/bin/env bash
# Cassandra's CPU per 1,000 stored events, today's sink against an older commit's, on a node of
# its own: one Cassandra (RF 1) pinned to CPU 1, the writer (scripts/bench/storecost) on CPU 0,
# RUNS alternated pairs of DURATION seconds at RATE events/s (the cluster benchmark's events), each counted
# from the first write until sessions are done, memtables flushed and no compaction pending.
# Each side may run on a node with its own set-up (scripts/cassandra.sh's CASSANDRA_MEMTABLE): NODE_BASE
# for BASE, NODE_TREE for this tree (both skiplist by default: one node); when they differ two nodes
# run side by side, both on CPU 1, started and warmed up once (each run drops and creates its keyspace).
#   bash scripts/bench/storecost.sh            (BASE=69fc32c RUNS=3 RATE=1000 DURATION=60; ~10 minutes)
#   BASE=HEAD NODE_TREE=trie bash scripts/bench/storecost.sh     (the node set-up alone)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/storecost
BASE=${BASE:-69fc32c} RUNS=${RUNS:-3} RATE=${RATE:-1000} DURATION=${DURATION:-60}
NODE_BASE=${NODE_BASE:-skiplist} NODE_TREE=${NODE_TREE:-skiplist}
W=.scratch/bench/storecost
mkdir -p "$W"
export CASSANDRA_CPUS=1
# One node per set-up, both pinned to CPU 1 and started once; runs alternate between them.
node_env() { # SETUP: the environment scripts/cassandra.sh needs for that set-up's node
  local i=0; [ "$1" = "$NODE_BASE" ] || i=1
  echo "CASSANDRA_MEMTABLE=$1 CASSANDRA_DIR=$ROOT/$W/cass-$1 SPOOR_CASSANDRA_PORT=$((19142 + i)) CASSANDRA_STORAGE_PORT=$((17100 + i)) CASSANDRA_JMX_PORT=$((17199 - i))"
}
for setup in $(printf '%s\n' "$NODE_BASE" "$NODE_TREE" | sort -u); do env $(node_env "$setup") bash scripts/cassandra.sh start; done
SHA=$(git rev-parse --short "$BASE")
if [ ! -d "$W/base-$SHA" ]; then git worktree add -f --detach "$W/base-$SHA" "$SHA" -q; fi
mkdir -p "$W/base-$SHA/scripts/bench/storecost" && cp scripts/bench/storecost/main.go "$W/base-$SHA/scripts/bench/storecost/"
(cd "$W/base-$SHA" && go build -o ../storecost-base ./scripts/bench/storecost)
go build -o "$W/storecost" ./scripts/bench/storecost
run() { # BINARY SETUP
  local e; e=$(node_env "$2")
  env $e taskset -c 0 "$W/$1" -hosts "127.0.0.1:$(env $e sh -c 'echo $SPOOR_CASSANDRA_PORT')" \
    -cass-pid "$(cat "$(env $e sh -c 'echo $CASSANDRA_DIR')/cassandra.pid")" -nodetool "env $e bash scripts/cassandra.sh nodetool" \
    -seconds "$DURATION" -rate "$RATE" -label "$1" 2>/dev/null | tail -1
}
run storecost "$NODE_TREE" >/dev/null # warm-up: the JIT
[ "$NODE_BASE" = "$NODE_TREE" ] || run storecost-base "$NODE_BASE" >/dev/null
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
rb = lambda k: statistics.median(r.get("row_bytes_per_event", 0) for r in rows if r["label"] == k)
if rb("storecost") > 0:
    print(f"\nBytes per event in the two event tables' SSTables (one replica, LZ4, after the flush; `nodetool tablestats`): "
          f"{sys.argv[2]} {rb('storecost-base'):.0f}, this tree {rb('storecost'):.0f} (**{rb('storecost') / max(rb('storecost-base'), 1e-9):.2f}×**).\n")
print(f"({len(rows)//2} alternated pairs at {sys.argv[3]} events/s; runs (total / less idle / idle CPU s per s): " + ", ".join(
    f"{r['label']} {r['cassandra_cpu_s_per_1000']:.3f} / {r['cassandra_net_cpu_s_per_1000']:.3f} / {r['cassandra_idle_cpu_s_per_s']:.3f}" for r in rows) + ")")
PY
