#!/usr/bin/env bash
# Memory under sustained peak load, on every entry point, in both deployments (issue 24).
#
# For each deployment (`spoor run`, one process; `spoor collector` + `spoor sink` on a nats-server, the
# proxy scenario with `spoor proxy` instead of the collector) and each entry point (single tuplet GETs,
# single JSON POSTs, native batches of 20, Segment /v1/batch of 100, the proxy): a fresh start, closed-
# loop wrk at peak (-t2 -c$CONNS) for DURATION, then IDLE without load; every spoor process's RSS read
# each second. Then throughput, today's build (BASE, the commit before this work) against this one,
# alternated AB_RUNS times of AB_DURATION each in the same session. Medians and the table into
# docs/benchmarks.md (BENCH:memory).
#   bash scripts/bench/memory.sh        (DURATION=600 IDLE=60 CONNS=64 AB_RUNS=3 AB_DURATION=10s)
#   ONLY="run:get_tuplet" DURATION=30 bash scripts/bench/memory.sh   (one cell, quickly)
#   KEEP=1 ONLY="..." bash scripts/bench/memory.sh   (adds cells to an earlier run's figures, then the doc)
#   KEEP=1 MEM=0 ONLY="..." AB_RUNS=5 bash scripts/bench/memory.sh   (the throughput comparison alone)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/memory
DURATION=${DURATION:-600} IDLE=${IDLE:-60} CONNS=${CONNS:-64} AB_RUNS=${AB_RUNS:-3} AB_DURATION=${AB_DURATION:-10s}
DRAIN_MAX=${DRAIN_MAX:-1200}
BASE=${BASE:-13a7394} ONLY=${ONLY:-} KEEP=${KEEP:-} MEM=${MEM:-1}
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { apt-get update -q && apt-get install -y -q wrk nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/memory
if [ -n "$KEEP" ]; then rm -rf "$W/out/ab" "$W/nginx"; else rm -rf "$W"; fi
mkdir -p "$W/nginx" "$W/out"
go build -o "$W/spoor" ./cmd/spoor && cp config.json "$W/config.json" # the run's own: the tree may change while it runs
[ -x .cache/bin/nats-server ] || go build -o .cache/bin/nats-server github.com/nats-io/nats-server/v2
git worktree remove --force "$W/base-src" 2>/dev/null || true
git worktree add -q --detach "$W/base-src" "$BASE"
(cd "$W/base-src" && go build -o "$PWD/../spoor-base" ./cmd/spoor && cp config.json ../config-base.json)
git worktree remove --force "$W/base-src"
page=$(python3 -c 'print("<html>" + "spoor " * 168 + "</html>")')
cat > "$W/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $PWD/$W/nginx/nginx.pid;
error_log $PWD/$W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:18392; location / { default_type text/html; return 200 "$page"; } }
}
CONF
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all; kill $NGINX_PID 2>/dev/null || true' EXIT
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & NGINX_PID=$!
wait_port 127.0.0.1 18392 10

TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
declare -A LUA=([get_tuplet]=get_tuplet [post_single]=post_single [post_batch20]=post_batch20 [segment_batch100]=segment_batch100 [proxy]=-)
declare -A PATHOF=([get_tuplet]=$TUPLET [post_single]=/tr/v1/ [post_batch20]=/tr/v1/ [segment_batch100]=/v1/batch [proxy]=/page)
SCENARIOS="get_tuplet post_single post_batch20 segment_batch100 proxy"
# The stream keeps every event for nats.max_age up to nats.max_bytes (10 GB by default, then it refuses
# new ones and the collectors spool): ten minutes at peak are up to 30 GB here, so the stream gets 32 GiB.
ENV=(SPOOR_LOG_LEVEL=warn SPOOR_SEGMENT_WRITE_KEYS=wk_bench_key_01=bench SPOOR_PROXY_UPSTREAMS=http://127.0.0.1:18392
  SPOOR_PROXY_ADDR=127.0.0.1:18394 SPOOR_HTTP_ADDR=127.0.0.1:18380 SPOOR_NATS_MAX_BYTES=34359738368)

# start BIN CONFIG DEPLOYMENT SCENARIO DIR: the processes of one cell; writes DIR/pids (name pid) and
# sets PORT, where the load goes.
start() {
  local bin=$1 cfg=$2 dep=$3 sc=$4 dir=$5 port=18380 role=collector
  rm -rf "$dir"; mkdir -p "$dir"; : > "$dir/pids"
  [ "$sc" = proxy ] && port=18394 && role=proxy
  if [ "$dep" = run ]; then
    env "${ENV[@]}" SPOOR_DATA_DIR="$dir/data" SPOOR_PROXY_ENABLED=$([ "$sc" = proxy ] && echo true || echo false) \
      "$bin" -config "$cfg" run 2> "$dir/spoor.log" & PIDS+=($!); echo "spoor $!" >> "$dir/pids"
  else
    .cache/bin/nats-server -js -sd "$dir/nats" -a 127.0.0.1 -p 18398 > "$dir/nats.log" 2>&1 & PIDS+=($!); echo "nats-server $!" >> "$dir/pids"
    wait_port 127.0.0.1 18398 30
    env "${ENV[@]}" SPOOR_DATA_DIR="$dir/data-c" SPOOR_NATS_URL=nats://127.0.0.1:18398 "$bin" -config "$cfg" "$role" 2> "$dir/$role.log" &
    PIDS+=($!); echo "$role $!" >> "$dir/pids"
    env "${ENV[@]}" SPOOR_DATA_DIR="$dir/data-s" SPOOR_NATS_URL=nats://127.0.0.1:18398 SPOOR_HTTP_ADDR=127.0.0.1:18381 \
      "$bin" -config "$cfg" sink 2> "$dir/sink.log" & PIDS+=($!); echo "sink $!" >> "$dir/pids"
  fi
  wait_port 127.0.0.1 "$port" 60 || { say "$dep $sc did not start"; cat "$dir"/*.log >&2; exit 1; }
  curl -fsS "http://127.0.0.1:$port${PATHOF[$sc]}" -o /dev/null 2>/dev/null || true
  PORT=$port
}

# load PORT SCENARIO DURATION OUT: closed-loop wrk at peak.
load() {
  local lua=()
  [ "${LUA[$2]}" != - ] && lua=(-s "scripts/bench/${LUA[$2]}.lua")
  wrk -t2 -c"$CONNS" -d"$3" "${lua[@]}" "http://127.0.0.1:$1${PATHOF[$2]}" > "$4"
}

# counters FILE: the collector's (or proxy's) and the sink's counts of events.
counters() {
  for m in 18380 18381; do curl -s "http://127.0.0.1:$m/metrics"; done |
    grep -E '^spoor_(collector_events_acked_total|sink_events_stored_total|proxy_events_total|collector_rejected_total)' > "$1" || true
}
# drained FILE: every event acknowledged to a client is stored.
drained() {
  python3 -c "
import sys
m = [l.split() for l in open('$1')]
acked = sum(float(v) for k, v in m if k.startswith('spoor_collector_events_acked_total')) or \\
  sum(float(v) for k, v in m if k == 'spoor_proxy_events_total{outcome=\"tracked\"}')
stored = sum(float(v) for k, v in m if k.startswith('spoor_sink_events_stored_total'))
sys.exit(0 if acked > 0 and stored >= acked else 1)"
}

# Memory: each cell alone, RSS of every process each second (rss.csv: unix time, name, MB).
for dep in run split; do
  for sc in $SCENARIOS; do
    [ -n "$ONLY" ] && [[ " $ONLY " != *" $dep:$sc "* ]] && continue
    [ "$MEM" = 0 ] && continue
    d="$W/out/mem.$dep.$sc"
    start "$W/spoor" "$W/config.json" "$dep" "$sc" "$d"; port=$PORT
    python3 - "$d" <<'PY' & SAMPLER=$!
import sys, time
d = sys.argv[1]
pids = [l.split() for l in open(f"{d}/pids")]

with open(f"{d}/rss.csv", "w") as out:
    while True:
        for name, pid in pids:
            try:
                kb = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
            except (OSError, StopIteration):
                continue
            out.write(f"{time.time():.1f},{name},{kb / 1024:.1f}\n")
        out.flush()
        time.sleep(1)
PY
    echo "$(date +%s.%N)" > "$d/load.start"
    say "$dep $sc: ${DURATION}s of load"
    load "$port" "$sc" "${DURATION}s" "$d/wrk.txt"
    echo "$(date +%s.%N)" > "$d/load.end"
    sleep "$IDLE"
    counters "$d/metrics.txt"
    # A sink behind the load works on after it: wait for the drain's end, then IDLE more.
    if ! drained "$d/metrics.txt"; then
      say "$dep $sc: the sink is still draining"
      for _ in $(seq $((DRAIN_MAX / 5))); do sleep 5; counters "$d/drain.txt"; drained "$d/drain.txt" && break; done
      echo "$(date +%s.%N)" > "$d/drain.end"
      sleep "$IDLE"
    fi
    kill "$SAMPLER"; wait "$SAMPLER" 2>/dev/null || true; stop_all
    rm -rf "$d"/data* "$d"/nats # ten minutes at peak are tens of GB: keep the figures, not the events
    say "$dep $sc: $(grep Requests/sec "$W/out/mem.$dep.$sc/wrk.txt")"
  done
done

# Throughput: today's build against this one, alternated, fresh processes each run.
for dep in run split; do
  for sc in $SCENARIOS; do
    [ -n "$ONLY" ] && [[ " $ONLY " != *" $dep:$sc "* ]] && continue
    for run in $(seq "$AB_RUNS"); do
      for b in base new; do
        bin=$W/spoor cfg=$W/config.json
        [ $b = base ] && bin=$W/spoor-base cfg=$W/config-base.json
        start "$bin" "$cfg" "$dep" "$sc" "$W/out/ab"; port=$PORT
        load "$port" "$sc" "$AB_DURATION" "$W/out/ab.$dep.$sc.$b.$run.txt"
        stop_all
        rm -rf "$W/out/ab"
        say "ab $dep $sc $b $run: $(grep Requests/sec "$W/out/ab.$dep.$sc.$b.$run.txt")"
      done
    done
  done
done

python3 scripts/bench/memory_report.py "$W/out" "$DURATION" "$IDLE" "$CONNS" "$AB_RUNS" "$AB_DURATION" "$BASE" "$SCENARIOS" > "$W/table.md"
cat "$W/table.md"
{ [ -z "$ONLY" ] || [ -n "$KEEP" ]; } && python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" memory
true
