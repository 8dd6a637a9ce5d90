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
# NODES=3: the same pairs on a 3-node ring at RF 3 (scripts/bench/storecost/ring.sh: the three nodes on
# CPU 1, writes at LOCAL_QUORUM as scripts/cluster.sh's sinks write); results in results-rf3.jsonl.
# RATE defaults to 300 there (the older sink must fit on the one core at RF 3) and EVERY to 667ms, so
# that each Write still carries 200 events as at RF 1. Then RUNS runs of this tree alone at NODE_RATE
# (1000) events/s in Writes of NODE_BATCH (500: sink.batch_size, what a busy sink's Writes carry, as
# sinkdrain.sh measures the sink) with one node of the ring on CPU 1 and the other two with the writer
# on CPU 0, node 1, 2, 3 in turn: that node's CPU per event, with a core of its own, times 3 is the ring's (every node
# holds every row at RF 3 and coordinates a third of the writes); results in results-rf3-node.jsonl,
# which scripts/bench/sizing.py takes for Cassandra's line. The ring is stopped at the end (it takes
# scripts/cluster.sh's ports) unless RING_KEEP=1.
#   NODES=3 bash scripts/bench/storecost.sh    (~25 minutes with the ring's start)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/storecost
NODES=${NODES:-1}
BASE=${BASE:-69fc32c} RUNS=${RUNS:-3} DURATION=${DURATION:-60}
if [ "$NODES" = 3 ]; then RATE=${RATE:-300} EVERY=${EVERY:-667ms} NODE_RATE=${NODE_RATE:-1000} NODE_BATCH=${NODE_BATCH:-500}; else RATE=${RATE:-1000} EVERY=${EVERY:-200ms}; fi
NODE_BASE=${NODE_BASE:-skiplist} NODE_TREE=${NODE_TREE:-skiplist}
W=.scratch/bench/storecost
mkdir -p "$W"
export CASSANDRA_CPUS=1
# One node per set-up, both pinned to CPU 1 and started once; runs alternate between them.
node_env() { # SETUP: the environment scripts/cassandra.sh needs for that set-up's node
  local i=0; [ "$1" = "$NODE_BASE" ] || i=1
  echo "CASSANDRA_MEMTABLE=$1 CASSANDRA_DIR=$ROOT/$W/cass-$1 SPOOR_CASSANDRA_PORT=$((19142 + i)) CASSANDRA_STORAGE_PORT=$((17100 + i)) CASSANDRA_JMX_PORT=$((17199 - i))"
}
RING="bash scripts/bench/storecost/ring.sh" RES=$W/results.jsonl
if [ "$NODES" = 3 ]; then
  $RING start; $RING pin all; RES=$W/results-rf3.jsonl NODE_BASE=ring NODE_TREE=ring
  # The ring listens on scripts/cluster.sh's ports: stopped at the end unless RING_KEEP=1.
  if [ "${RING_KEEP:-}" = 1 ]; then trap '$RING pin all' EXIT; else trap '$RING stop >/dev/null 2>&1' EXIT; fi
else
  for setup in $(printf '%s\n' "$NODE_BASE" "$NODE_TREE" | sort -u); do env $(node_env "$setup") bash scripts/cassandra.sh start; done
fi
SHA=$(git rev-parse --short "$BASE")
if [ ! -d "$W/base-$SHA" ]; then git worktree add -f --detach "$W/base-$SHA" "$SHA" -q; fi
mkdir -p "$W/base-$SHA/scripts/bench/storecost" && cp scripts/bench/storecost/main.go "$W/base-$SHA/scripts/bench/storecost/"
(cd "$W/base-$SHA" && go build -o ../storecost-base ./scripts/bench/storecost)
go build -o "$W/storecost" ./scripts/bench/storecost
ringrun() { # BINARY LABEL COUNTED_PIDS RATE EVERY
  taskset -c 0 "$W/$1" -hosts 127.0.0.1:29042,127.0.0.2:29042,127.0.0.3:29042 -consistency local_quorum \
    -replication "{'class': 'NetworkTopologyStrategy', 'datacenter1': 3}" -cass-pid "$3" -quiet-pid "$($RING pids)" \
    -nodetool "$RING nodetool" -seconds "$DURATION" -rate "$4" -every "$5" -label "$2" 2>/dev/null | tail -1
}
run() { # BINARY SETUP
  if [ "$NODES" = 3 ]; then ringrun "$1" "$1" "$($RING pids)" "$RATE" "$EVERY"; return; fi
  local e; e=$(node_env "$2")
  env $e taskset -c 0 "$W/$1" -hosts "127.0.0.1:$(env $e sh -c 'echo $SPOOR_CASSANDRA_PORT')" \
    -cass-pid "$(cat "$(env $e sh -c 'echo $CASSANDRA_DIR')/cassandra.pid")" -nodetool "env $e bash scripts/cassandra.sh nodetool" \
    -seconds "$DURATION" -rate "$RATE" -every "$EVERY" -label "$1" 2>/dev/null | tail -1
}
run storecost "$NODE_TREE" >/dev/null # warm-up: the JIT
[ "$NODE_BASE" = "$NODE_TREE" ] || run storecost-base "$NODE_BASE" >/dev/null
: > "$RES"
for r in $(seq "$RUNS"); do
  say "run $r of $RUNS"
  run storecost-base "$NODE_BASE" >> "$RES"
  run storecost "$NODE_TREE" >> "$RES"
done
if [ "$NODES" = 3 ]; then
  : > "$W/results-rf3-node.jsonl"
  for r in $(seq "$RUNS"); do
    k=$(((r - 1) % 3 + 1))
    say "node $k alone on CPU 1 at $NODE_RATE events/s in Writes of $NODE_BATCH (run $r of $RUNS)"
    $RING pin "$k"
    ringrun storecost "node$k" "$($RING pid "$k")" "$NODE_RATE" "$((NODE_BATCH * 1000 / NODE_RATE))ms" >> "$W/results-rf3-node.jsonl"
  done
  $RING pin all
fi
python3 - "$RES" "$BASE ($NODE_BASE memtables)" "$RATE" "$NODE_TREE" "$NODES" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
nodes = int(sys.argv[5])
if nodes == 3:  # the ring: skiplist memtables on every node
    sys.argv[2], sys.argv[4] = sys.argv[2].replace("(ring memtables)", "(3 nodes, RF 3)"), "skiplist"
med = lambda k, f: statistics.median(r[f] for r in rows if r["label"] == k)
print("| sink | Cassandra CPU s per 1,000 events (median) | ratio | less idle (median) | ratio |\n|---|---|---|---|---|")
b, n = med("storecost-base", "cassandra_cpu_s_per_1000"), med("storecost", "cassandra_cpu_s_per_1000")
bn, nn = med("storecost-base", "cassandra_net_cpu_s_per_1000"), med("storecost", "cassandra_net_cpu_s_per_1000")
print(f"| {sys.argv[2]} | {b:.3f} | 1.00× | {bn:.3f} | 1.00× |")
print(f"| this tree ({sys.argv[4]} memtables{', 3 nodes, RF 3' if nodes == 3 else ''}) | {n:.3f} | **{n/b:.2f}×** | {nn:.3f} | **{nn/bn:.2f}×** |")
rb = lambda k: statistics.median(r.get("row_bytes_per_event", 0) for r in rows if r["label"] == k) / nodes  # every replica's, then per replica
if rb("storecost") > 0:
    print(f"\nBytes per event in the two event tables' SSTables (one replica, LZ4, after the flush; `nodetool tablestats`): "
          f"{sys.argv[2]} {rb('storecost-base'):.0f}, this tree {rb('storecost'):.0f} (**{rb('storecost') / max(rb('storecost-base'), 1e-9):.2f}×**).\n")
print(f"({len(rows)//2} alternated pairs at {sys.argv[3]} events/s; runs (total / less idle / idle CPU s per s): " + ", ".join(
    f"{r['label']} {r['cassandra_cpu_s_per_1000']:.3f} / {r['cassandra_net_cpu_s_per_1000']:.3f} / {r['cassandra_idle_cpu_s_per_s']:.3f}" for r in rows) + ")")
PY
[ "$NODES" = 3 ] || exit 0
python3 - "$W/results-rf3-node.jsonl" "$NODE_RATE" "$DURATION" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda f: statistics.median(r[f] for r in rows)
print(f"\nThe ring at RF 3 with each node on a core of its own, in turn ({len(rows)} runs of {sys.argv[3]} s at {sys.argv[2]} events/s, "
      f"{rows[0]['events_per_batch']} events per Write; the node's CPU per event × 3):\n")
print("| | one node: CPU s per 1,000 events | less idle | the ring (× 3) | less idle |\n|---|---|---|---|---|")
print(f"| this tree (median) | {med('cassandra_cpu_s_per_1000'):.3f} | {med('cassandra_net_cpu_s_per_1000'):.3f} | "
      f"**{3 * med('cassandra_cpu_s_per_1000'):.3f}** | **{3 * med('cassandra_net_cpu_s_per_1000'):.3f}** |")
print("\n(runs, node: total / less idle / idle CPU s per s / s behind the rate: " + ", ".join(
    f"{r['label']} {r['cassandra_cpu_s_per_1000']:.3f} / {r['cassandra_net_cpu_s_per_1000']:.3f} / {r['cassandra_idle_cpu_s_per_s']:.3f} / {r['behind_s']:.1f}"
    for r in rows) + ")")
PY
