#!/usr/bin/env bash
# The Cassandra sink on a core of its own while it drains a backlog, which is the speed its 3× reserve
# in the sizing model is for: `spoor sink` (cassandra, sessions on, config.json's defaults) pinned to
# CPU 1; one Cassandra node, one nats-server and a `spoor collector` with the load generator on CPU 0.
# Each run starts the sink on an empty stream, measures its idle CPU for 10 s, stops it (SIGSTOP),
# sends RATE events/s of single events with client ids for DURATION seconds (one JetStream message
# each, as scripts/bench/roles.sh and nats.sh send), resumes it and counts its CPU until it has stored
# every event and gone quiet (its sessionizer's work included, cassandra.sessions_delay 2s): the
# sink's CPU s per 1,000 events, idle subtracted, and the events/s it drained. Each run does it twice,
# alternated: the sink of BASE (69fc32c, before issue 28's store work; its own config.json) and this
# tree's, so the ratio is of one session. This tree's medians of RUNS runs go to
# .scratch/bench/sinkdrain/sinkdrain.json, which scripts/bench/sizing.py takes for the sinks' line.
#   bash scripts/bench/sinkdrain.sh            (BASE=69fc32c RUNS=3 RATE=3000 DURATION=20; ~12 minutes)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/sinkdrain
die() { say "$*"; exit 1; }
BASE=${BASE:-69fc32c} RUNS=${RUNS:-3} RATE=${RATE:-3000} DURATION=${DURATION:-20}
W=.scratch/bench/sinkdrain
rm -rf "$W/runs" "$W/results.jsonl"; mkdir -p "$W/runs"
NATS_BIN=$ROOT/.cache/bin/nats-server
[ -x "$NATS_BIN" ] || go build -o "$NATS_BIN" github.com/nats-io/nats-server/v2
go build -o "$W/spoor" ./cmd/spoor
SHA=$(git rev-parse --short "$BASE")
if [ ! -d "$W/base-$SHA" ]; then git worktree add -f --detach "$W/base-$SHA" "$SHA" -q; fi
(cd "$W/base-$SHA" && go build -o "$ROOT/$W/spoor-base" ./cmd/spoor)
go build -o "$W/loadgen" ./scripts/bench/loadgen
CASS=(env CASSANDRA_DIR="$ROOT/$W/cass" SPOOR_CASSANDRA_PORT=19242 CASSANDRA_STORAGE_PORT=17300 CASSANDRA_JMX_PORT=0 CASSANDRA_CPUS=0)
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
finish() { stop_all; "${CASS[@]}" bash scripts/cassandra.sh stop >/dev/null 2>&1 || true; }
trap finish EXIT
"${CASS[@]}" bash scripts/cassandra.sh start
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
stored() { curl -s http://127.0.0.1:18692/metrics | awk '/^spoor_sink_events_stored_total/ {s += $2} END {print int(s)}'; }
run() { # RUN SIDE (tree|base)
  local run=$1 side=$2 d="$W/runs/$1-$2" bin=$W/spoor conf=config.json ks="drain_${2}_$1"
  [ "$side" = tree ] || { bin=$W/spoor-base; conf=$W/base-$SHA/config.json; }
  mkdir -p "$d"
  taskset -c 0 "$NATS_BIN" -js -sd "$d/nats" -a 127.0.0.1 -p 25520 -m 25521 > "$d/nats.log" 2>&1 &
  PIDS+=($!)
  wait_port 127.0.0.1 25520 30
  local env=(SPOOR_NATS_URL=nats://127.0.0.1:25520 SPOOR_LOG_LEVEL=warn SPOOR_SINK_TYPE=cassandra
    SPOOR_CASSANDRA_HOSTS=127.0.0.1 SPOOR_CASSANDRA_PORT=19242 SPOOR_CASSANDRA_KEYSPACE="$ks" SPOOR_CASSANDRA_SESSIONS_DELAY=2s)
  env "${env[@]}" SPOOR_DATA_DIR="$d/sink" SPOOR_HTTP_ADDR=127.0.0.1:18692 taskset -c 1 "$bin" -config "$conf" sink > "$d/sink.log" 2>&1 &
  local sink=$!; PIDS+=($sink)
  env "${env[@]}" SPOOR_DATA_DIR="$d/collector" SPOOR_HTTP_ADDR=127.0.0.1:18691 taskset -c 0 "$bin" -config "$conf" collector > "$d/collector.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1200); do curl -fs http://127.0.0.1:18691/readyz >/dev/null && curl -fs http://127.0.0.1:18692/readyz >/dev/null && break; sleep 0.1; done
  curl -fs http://127.0.0.1:18692/readyz >/dev/null || die "the sink did not become ready (see $d/sink.log)"
  sleep 5
  local i0 i1 t0 t1 b a tb ta want
  i0=$(ticks "$sink"); t0=$(date +%s.%N); sleep 10; i1=$(ticks "$sink"); t1=$(date +%s.%N)
  kill -STOP "$sink"
  taskset -c 0 "$W/loadgen" -url http://127.0.0.1:18691/tr/v1/ -rate "$RATE" -duration "${DURATION}s" -client-ids=true > "$d/load.json"
  want=$(python3 -c "import json;print(json.load(open('$d/load.json'))['ok'])")
  b=$(ticks "$sink"); tb=$(date +%s.%N)
  kill -CONT "$sink"
  for _ in $(seq 600); do [ "$(stored)" -ge "$want" ] && break; sleep 0.2; done
  [ "$(stored)" -ge "$want" ] || die "the sink stored $(stored) of $want events in 120 s (see $d/sink.log)"
  local td; td=$(date +%s.%N)
  # Then until it is quiet: a 2 s window at most 0.03 CPU s/s above its idle (60 s at most).
  local quiet; quiet=$(python3 -c "print(int(($i1 - $i0) / ($t1 - $t0) * 2 + 0.06 * $(getconf CLK_TCK)))")
  for _ in $(seq 30); do
    a=$(ticks "$sink"); ta=$(date +%s.%N); sleep 2
    [ $(( $(ticks "$sink") - a )) -le "$quiet" ] && break
  done
  python3 -c "
import json
tck = $(getconf CLK_TCK)
idle = ($i1 - $i0) / tck / ($t1 - $t0)
secs = $ta - $tb
used = ($a - $b) / tck - idle * secs
print(json.dumps({'side': '$side', 'run': $run, 'events': $want, 'seconds': round(secs, 2), 'idle_cpu_s_per_s': round(idle, 4),
                  'sink_cpu_s_per_1000': round(max(used, 0) / $want * 1000, 4), 'drained_per_s': round($want / ($td - $tb))}))" >> "$W/results.jsonl"
  stop_all
  "${CASS[@]}" bash scripts/cassandra.sh query "DROP KEYSPACE IF EXISTS $ks" >/dev/null 2>&1 || true
  sleep 5
  say "$side run $run: $(tail -1 "$W/results.jsonl")"
}
# Run 0 warms up the node and both binaries (the first keyspace, the JIT) and is not counted.
for run in 0 $(seq "$RUNS"); do run "$run" base; run "$run" tree; done
python3 - "$W/results.jsonl" "$RATE" "$DURATION" "$BASE" <<'PY' | tee "$W/table.md"
import json, statistics, sys
med = statistics.median
allrows = [x for x in map(json.loads, open(sys.argv[1])) if x["run"] > 0]
rows = [x for x in allrows if x["side"] == "tree"]
base = [x for x in allrows if x["side"] == "base"]
cpu = med(x["sink_cpu_s_per_1000"] for x in rows)
rate = med(x["drained_per_s"] for x in rows)
bcpu = med(x["sink_cpu_s_per_1000"] for x in base)
print(f"The Cassandra sink on a core of its own draining a backlog (`bash scripts/bench/sinkdrain.sh`): {int(sys.argv[2]) * int(sys.argv[3]):,} "
      f"single events with client ids sent while it was stopped, one Cassandra node, NATS and the collector on the other core, "
      f"alternated with the sink of {sys.argv[4]}, medians of {len(rows)} runs, idle subtracted.\n")
print("| sink | CPU s per 1,000 events | events/s per core | drained events/s |\n|---|---|---|---|")
print(f"| {sys.argv[4]} | {bcpu:.3f} | {1000 / bcpu:,.0f} | {med(x['drained_per_s'] for x in base):,.0f} |")
print(f"| this tree | {cpu:.3f} | {1000 / cpu:,.0f} | {rate:,.0f} |")
print(f"| ratio | **{cpu / bcpu:.2f}×** | | |")
print("\nRuns: " + ", ".join(f"{x['side']} {x['sink_cpu_s_per_1000']:.3f} ({x['drained_per_s']:,}/s)" for x in allrows))
json.dump({"rate": int(sys.argv[2]), "runs": len(rows), "cpu_per_1k": round(cpu, 4), "drained_per_s": rate, "base": sys.argv[4], "base_cpu_per_1k": round(bcpu, 4)},
          open(sys.argv[1].replace("results.jsonl", "sinkdrain.json"), "w"))
PY
