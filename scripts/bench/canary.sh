#!/usr/bin/env bash
# The canary's own cost, and the end-to-end latency it measures (issue 27); the table into
# docs/benchmarks.md (BENCH:canary).
#  cost:    `spoor run` (file store) with no other traffic, canary off and on (canary.interval 10s, the
#           default), alternated RUNS times for COST_DURATION each: the process's CPU seconds (utime +
#           stime, /proc) over the window after a 20 s settle; the canary's cost is on − off.
#  latency: the canary every second for LAT_DURATION, its histogram spoor_canary_latency_seconds
#           (where="store": from the request to the row written, Cassandra's writetime; to the file's
#           publish for the file store), p50/p99 interpolated in its buckets as Prometheus does; idle and
#           under BG events/s of background load (loadgen, single JSON POSTs), on
#             run-cassandra: `spoor run` + one Cassandra node (scripts/cassandra.sh)
#             run-files:     `spoor run`, file store, file.roll_interval 1s
#             cluster:       scripts/cluster.sh (3 NATS at R3, 3 Cassandra at RF 3, 2 collectors, 2 sinks)
#                            and `spoor canary` against collector1; its background load CLUSTER_BG (225
#                            events/s: half the 451 events/s this cluster sustains here, docs/benchmarks.md)
#  meter:   the loss meter's cost (quality.loss_meter): `spoor run` (file store) takes METER_EVENTS single
#           JSON events of 5,000 visitors, each with its visitor's next cidx (loadgen -cidx, METER_RATE/s),
#           until every one is stored; the process's CPU seconds per 1,000 events, meter off and on
#           alternated RUNS times.
#   bash scripts/bench/canary.sh        (RUNS=3 COST_DURATION=120 LAT_DURATION=120 BG=1000 METER_EVENTS=150000)
#   PHASES="latency" DEPLOYS="run-files" bash scripts/bench/canary.sh
#   PHASES="cost meter" …, then KEEP=1 PHASES=latency …: in two sittings, the doc updated by the second
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/canary
RUNS=${RUNS:-3} COST_DURATION=${COST_DURATION:-120} LAT_DURATION=${LAT_DURATION:-120} BG=${BG:-1000} CLUSTER_BG=${CLUSTER_BG:-225}
METER_EVENTS=${METER_EVENTS:-150000} METER_RATE=${METER_RATE:-5000}
PHASES=${PHASES:-cost meter latency} DEPLOYS=${DEPLOYS:-run-cassandra run-files cluster}
W=.scratch/bench/canary
if [ -z "${KEEP:-}" ]; then rm -rf "$W"; fi # KEEP=1: add these phases to an earlier run's figures
mkdir -p "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/loadgen" ./scripts/bench/loadgen
cp config.json "$W/config.json"
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap stop_all EXIT
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.3f", ($14+$15)/t}' "/proc/$1/stat"; }
ENV=(SPOOR_LOG_LEVEL=warn SPOOR_HTTP_ADDR=127.0.0.1:18480 SPOOR_SEGMENT_WRITE_KEYS=wk_canary_bench_01=bench
  SPOOR_LINKS_SIGNING_KEYS=canary-bench-signing-key-01)

if [[ " $PHASES " == *" cost "* ]]; then
  for run in $(seq "$RUNS"); do
    for mode in off on; do
      d="$W/cost.$mode.$run"
      env "${ENV[@]}" SPOOR_DATA_DIR="$d" SPOOR_CANARY_ENABLED=$([ $mode = on ] && echo true || echo false) \
        "$W/spoor" -config "$W/config.json" run 2> "$d.log" & PIDS+=($!); pid=$!
      wait_port 127.0.0.1 18480 60
      sleep 20
      c0=$(cpu "$pid"); t0=$(date +%s.%N)
      sleep "$COST_DURATION"
      c1=$(cpu "$pid"); t1=$(date +%s.%N)
      sent=$(curl -s http://127.0.0.1:18480/metrics | awk '/^spoor_canary_sent_total/ {s += $2} END {print s + 0}')
      echo "$mode $run $c0 $c1 $t0 $t1 $sent" >> "$W/out/cost.txt"
      say "cost $mode $run: $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}') CPU s in ${COST_DURATION} s, $sent canary events sent"
      stop_all; rm -rf "$d"
    done
  done
fi

if [[ " $PHASES " == *" meter "* ]]; then
  for run in $(seq "$RUNS"); do
    for mode in off on; do
      d="$W/meter.$mode.$run"
      env "${ENV[@]}" SPOOR_DATA_DIR="$d" SPOOR_QUALITY_LOSS_METER=$([ $mode = on ] && echo true || echo false) \
        "$W/spoor" -config "$W/config.json" run 2> "$d.log" & PIDS+=($!); pid=$!
      wait_port 127.0.0.1 18480 60
      sleep 5
      c0=$(cpu "$pid"); t0=$(date +%s.%N)
      "$W/loadgen" -url http://127.0.0.1:18480/tr/v1/ -rate "$METER_RATE" -duration "$((METER_EVENTS / METER_RATE))s" -cidx -app meter > "$d.loadgen" 2>&1
      for _ in $(seq 600); do
        stored=$(curl -s http://127.0.0.1:18480/metrics | awk '/^spoor_sink_events_stored_total/ {s += $2} END {print s + 0}')
        [ "${stored%.*}" -ge "$METER_EVENTS" ] && break
        sleep 0.5
      done
      c1=$(cpu "$pid"); t1=$(date +%s.%N)
      gap=$(curl -s http://127.0.0.1:18480/metrics | awk '/^spoor_client_messages_total/ {print}' | tr '\n' ' ')
      echo "$mode $run $c0 $c1 $t0 $t1 $stored" >> "$W/out/meter.txt"
      say "meter $mode $run: $stored stored, $(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}') CPU s; $gap"
      stop_all; rm -rf "$d"
    done
  done
fi

# latency DEPLOY: the canary's histogram, idle then under load.
latency() {
  local dep=$1 url metrics
  case $dep in
    run-cassandra|run-files)
      local extra=(SPOOR_FILE_ROLL_INTERVAL=1s)
      if [ "$dep" = run-cassandra ]; then
        bash scripts/cassandra.sh start >/dev/null
        extra=(SPOOR_CASSANDRA_HOSTS=127.0.0.1:${SPOOR_CASSANDRA_PORT:-19042} SPOOR_CASSANDRA_KEYSPACE=spoor_canary_bench)
      fi
      url=http://127.0.0.1:18480 metrics=http://127.0.0.1:18480/metrics
      start_lat() {
        env "${ENV[@]}" "${extra[@]}" SPOOR_DATA_DIR="$W/lat.$dep" SPOOR_CANARY_ENABLED=true SPOOR_CANARY_INTERVAL=1s \
          "$W/spoor" -config "$W/config.json" run 2> "$W/lat.$dep.log" & PIDS+=($!)
        wait_port 127.0.0.1 18480 120
      } ;;
    cluster)
      # The collectors take the canary's Segment write key and verify its signed redirect with its key.
      port_open 127.0.0.1 18181 || env SPOOR_SEGMENT_WRITE_KEYS=wk_canary_bench_01=bench \
        SPOOR_LINKS_SIGNING_KEYS=canary-bench-signing-key-01 bash scripts/cluster.sh start
      url=http://127.0.0.1:18181 metrics=http://127.0.0.1:18485/metrics
      start_lat() {
        (. .scratch/cluster/spoor.env; exec env "${ENV[@]}" SPOOR_HTTP_ADDR=127.0.0.1:18485 SPOOR_DATA_DIR="$W/lat.cluster" \
          SPOOR_CANARY_COLLECTOR_URL=$url SPOOR_CANARY_INTERVAL=1s "$W/spoor" -config "$W/config.json" canary) \
          2> "$W/lat.cluster.log" & PIDS+=($!)
        wait_port 127.0.0.1 18485 60
      } ;;
  esac
  for load in idle load; do
    start_lat
    sleep 10 # the first round's lookups, the link, the sessions
    curl -s "$metrics" > "$W/out/lat.$dep.$load.0.prom"
    if [ $load = load ]; then
      "$W/loadgen" -url "$url/tr/v1/" -rate "$([ "$dep" = cluster ] && echo "$CLUSTER_BG" || echo "$BG")" -duration "${LAT_DURATION}s" -app bench > "$W/out/lat.$dep.loadgen.txt" 2>&1
    else
      sleep "$LAT_DURATION"
    fi
    sleep 5
    curl -s "$metrics" > "$W/out/lat.$dep.$load.1.prom"
    say "latency $dep $load: $(grep -c '^spoor_canary_latency_seconds_count' "$W/out/lat.$dep.$load.1.prom") series"
    stop_all; rm -rf "$W/lat.$dep"
  done
}
if [[ " $PHASES " == *" latency "* ]]; then
  for dep in $DEPLOYS; do latency "$dep"; done
  [[ " $DEPLOYS " == *" cluster "* ]] && bash scripts/cluster.sh stop
fi

python3 scripts/bench/canary_report.py "$W/out" "$RUNS" "$COST_DURATION" "$LAT_DURATION" "$BG" > "$W/table.md"
cat "$W/table.md"
{ [[ "$PHASES" == "cost meter latency" ]] || [ -n "${KEEP:-}" ]; } && python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" canary
true
