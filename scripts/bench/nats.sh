#!/usr/bin/env bash
# NATS JetStream on a core of its own, at R1 (one server) and at R3 (three servers, streams at
# nats.replicas 3), alternated in one session: the nats-server processes pinned to CPU 1; a `spoor
# collector`, a `spoor sink` (the file store) and the load generator on CPU 0. Each run sends RATE
# events/s of single events with client ids (one JetStream message each, as the cluster benchmark
# sends) for DURATION seconds, waits until the sink has acknowledged everything, and reports the
# servers' CPU seconds per 1,000 events, their idle CPU (measured for 15 s before the load) subtracted.
# CLIENT_IDS=0 sends events without ids (the collector assigns them, so requests may share messages);
# SPOOR_COLLECTOR_ACK=local runs the collector with the local ack (decision 0006); REPLICAS="3" runs
# one side only. The medians also go to .scratch/bench/nats/nats.json, which scripts/bench/sizing.py
# takes for the NATS line of docs/operations.md when it measured R3 with client ids behind `replicated`.
# RATE 4,000 is about the most the other core sends here (collector, sink and load on one core): three
# R3 servers on one core burn most of it at any rate from 1,000 up, so their CPU per event falls as the
# rate rises and a lower rate overstates it.
# ROLE=collector turns it around: the collector alone on CPU 1 and counted, the NATS servers with the
# sink and the load on CPU 0 (use REPLICAS=1 there, which leaves CPU 0 room); medians go to
# .scratch/bench/collectorcore/collector.json, which sizing.py takes for the collectors' line.
#   bash scripts/bench/nats.sh            (RUNS=3 RATE=4000 DURATION=30; ~8 minutes)
#   ROLE=collector REPLICAS=1 RATE=3000 bash scripts/bench/nats.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/nats
RUNS=${RUNS:-3} RATE=${RATE:-4000} ROLE=${ROLE:-nats} DURATION=${DURATION:-30} CLIENT_IDS=${CLIENT_IDS:-1} REPLICAS=${REPLICAS:-1 3}
ACK=${SPOOR_COLLECTOR_ACK:-replicated}
W=.scratch/bench/nats NCPU=1 CCPU=0 OUT=nats.json
[ "$ROLE" = nats ] || { [ "$ROLE" = collector ] || { say "ROLE must be nats or collector"; exit 2; }; W=.scratch/bench/collectorcore NCPU=0 CCPU=1 OUT=collector.json; }
rm -rf "$W"; mkdir -p "$W"
NATS_BIN=$ROOT/.cache/bin/nats-server
[ -x "$NATS_BIN" ] || go build -o "$NATS_BIN" github.com/nats-io/nats-server/v2
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/loadgen" ./scripts/bench/loadgen
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; PIDS=(); }
trap stop_all EXIT
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat"))); done; echo $t; }
run() { # REPLICAS RUN
  local r=$1 run=$2 d="$W/r$1.$2" i routes urls="" servers=()
  mkdir -p "$d"
  for i in $(seq "$r"); do
    routes=""
    if [ "$r" -gt 1 ]; then
      local j; for j in $(seq "$r"); do [ "$j" = "$i" ] || routes="$routes${routes:+,}nats://127.0.0.1:$((25320 + j))"; done
      taskset -c "$NCPU" "$NATS_BIN" -js -sd "$d/n$i" -n "n$i" -a 127.0.0.1 -p $((25220 + i)) -m $((25420 + i)) \
        --cluster_name bench --cluster "nats://127.0.0.1:$((25320 + i))" --routes "$routes" > "$d/n$i.log" 2>&1 &
    else
      taskset -c "$NCPU" "$NATS_BIN" -js -sd "$d/n$i" -n "n$i" -a 127.0.0.1 -p $((25220 + i)) -m $((25420 + i)) > "$d/n$i.log" 2>&1 &
    fi
    servers+=($!); PIDS+=($!)
    urls="$urls${urls:+,}nats://127.0.0.1:$((25220 + i))"
  done
  for i in $(seq "$r"); do wait_port 127.0.0.1 $((25220 + i)) 30; done
  local env=(SPOOR_NATS_URL="$urls" SPOOR_NATS_REPLICAS="$r" SPOOR_NATS_PARTITIONS=1 SPOOR_LOG_LEVEL=warn SPOOR_SINK_TYPE=file)
  env "${env[@]}" SPOOR_DATA_DIR="$d/sink" SPOOR_HTTP_ADDR=127.0.0.1:18592 taskset -c 0 "$W/spoor" -config config.json sink > "$d/sink.log" 2>&1 &
  PIDS+=($!)
  env "${env[@]}" SPOOR_DATA_DIR="$d/collector" SPOOR_HTTP_ADDR=127.0.0.1:18591 taskset -c "$CCPU" "$W/spoor" -config config.json collector > "$d/collector.log" 2>&1 &
  PIDS+=($!)
  local counted=("${servers[@]}"); [ "$ROLE" = nats ] || counted=($!)
  for _ in $(seq 600); do curl -fs http://127.0.0.1:18591/readyz >/dev/null && curl -fs http://127.0.0.1:18592/readyz >/dev/null && break; sleep 0.1; done
  sleep 5
  local i0 i1 t0 t1 b a tb ta
  i0=$(ticks "${counted[@]}"); t0=$(date +%s.%N); sleep 15; i1=$(ticks "${counted[@]}"); t1=$(date +%s.%N)
  b=$(ticks "${counted[@]}"); tb=$(date +%s.%N)
  taskset -c 0 "$W/loadgen" -url http://127.0.0.1:18591/tr/v1/ -rate "$RATE" -duration "${DURATION}s" -client-ids="$([ "$CLIENT_IDS" = 1 ] && echo true || echo false)" > "$d/load.json"
  local want; want=$(python3 -c "import json;print(json.load(open('$d/load.json'))['ok'])" 2>/dev/null || echo 0)
  for _ in $(seq 300); do
    local acked; acked=$(curl -s http://127.0.0.1:18592/metrics | awk '/^spoor_sink_events_stored_total/ {s += $2} END {print int(s)}')
    [ "${acked:-0}" -ge "$want" ] && break; sleep 1
  done
  a=$(ticks "${counted[@]}"); ta=$(date +%s.%N)
  python3 -c "
import json
tck = $(getconf CLK_TCK)
idle = ($i1 - $i0) / tck / ($t1 - $t0)
used = ($a - $b) / tck
n = $want
print(json.dumps({'replicas': $r, 'run': $run, 'events': n, 'seconds': round($ta - $tb, 1), 'idle_cpu_s_per_s': round(idle, 4),
                  '${ROLE}_cpu_s_per_1000': round(max(used - idle * ($ta - $tb), 0) / max(n, 1) * 1000, 4)}))" >> "$W/results.jsonl"
  stop_all
  say "R$r run $run: $(tail -1 "$W/results.jsonl")"
}
for run in $(seq "$RUNS"); do for r in $REPLICAS; do run "$r" "$run"; done; done
python3 - "$W/results.jsonl" "$RATE" "$DURATION" "$CLIENT_IDS" "$ACK" "$ROLE" "$OUT" <<'PY' | tee "$W/table.md"
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
reps = sorted({x["replicas"] for x in rows})
role = sys.argv[6]
key = f"{role}_cpu_s_per_1000"
med = lambda r: statistics.median(x[key] for x in rows if x["replicas"] == r)
ids = "with client ids (one JetStream message each)" if sys.argv[4] == "1" else "without ids (the collector's, so requests may share messages)"
where = ("NATS on a core of its own", "a collector and a file-store sink on the other core") if role == "nats" else \
        ("The collector on a core of its own", "the NATS servers, a file-store sink and the load on the other core")
print(f"{where[0]} (`{'' if role == 'nats' else 'ROLE=collector '}bash scripts/bench/nats.sh`): {sys.argv[2]} events/s of single events {ids} "
      f"for {sys.argv[3]} s, `collector.ack: {sys.argv[5]}`, one partition, {where[1]}, medians of "
      f"{len(rows) // len(reps)} runs, idle subtracted.\n")
what = "NATS CPU s per 1,000 events (all servers)" if role == "nats" else "collector CPU s per 1,000 events"
print(f"| streams | {what} | events/s per core |\n|---|---|---|")
for r in reps:
    print(f"| R{r} ({r} server{'s' if r > 1 else ''}) | {med(r):.3f} | {1000 / med(r):,.0f} |")
print("\nRuns: " + ", ".join(f"R{x['replicas']} {x[key]:.3f}" for x in rows))
# For scripts/bench/sizing.py: the medians and what was measured.
json.dump({"rate": int(sys.argv[2]), "client_ids": sys.argv[4] == "1", "ack": sys.argv[5], "runs": len(rows) // len(reps), "role": role,
           "cpu_per_1k": {f"R{r}": round(med(r), 4) for r in reps}}, open(sys.argv[1].replace("results.jsonl", sys.argv[7]), "w"))
PY
