#!/usr/bin/env bash
# Measures the collector against nginx answering 204 on the same machine, in
# the same session (and a bare fasthttp server answering 204, the HTTP
# library's own ceiling): GET tuplet, POST single JSON, POST batch of 20, each at
# fixed concurrency, RUNS times per target (plus the collector built without
# the durable ack, as the ceiling), medians into docs/benchmarks.md.
# post_single sends no event id (the collector assigns one, and concurrent
# requests share bus messages); post_single_eid sends a fresh client id per
# event, as the browser SDK does (each request keeps its own message).
#   bash scripts/bench/run.sh            (RUNS=3 DURATION=10s CONNS=64 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-64} THREADS=${THREADS:-2}
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then apt-get update -q && apt-get install -y -q "${need[@]}"; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

W=.scratch/bench/collector; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out" # each bench keeps its own dir
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/bare" ./scripts/bench/bare
# The same collector built to answer without making events durable (it drops them): the ceiling that
# fasthttp plus spoor's parsing leaves on this machine, so the durable ack's own cost can be read off.
go build -tags bench_nodurable -o "$W/spoor-nodurable" ./cmd/spoor
sed "s#NGINX_DIR#$PWD/$W/nginx#g" scripts/bench/nginx.conf > "$W/nginx/nginx.conf"
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & NGINX_PID=$!
SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18080 SPOOR_LOG_LEVEL=warn "$W/spoor" -config config.json run 2> "$W/spoor.log" & SPOOR_PID=$!
"$W/bare" -addr 127.0.0.1:18082 & BARE_PID=$!
# The collector role alone (embedded JetStream, durable ack, no sink in the process), as a deployment
# with separate sink processes runs it.
SPOOR_DATA_DIR="$W/data-collector" SPOOR_HTTP_ADDR=127.0.0.1:18083 SPOOR_LOG_LEVEL=warn "$W/spoor" -config config.json collector 2> "$W/collector.log" & COLL_PID=$!
SPOOR_DATA_DIR="$W/data-nodurable" SPOOR_HTTP_ADDR=127.0.0.1:18084 SPOOR_LOG_LEVEL=warn "$W/spoor-nodurable" -config config.json collector 2> "$W/nodurable.log" & NODUR_PID=$!
trap 'kill $NGINX_PID $SPOOR_PID $BARE_PID $COLL_PID $NODUR_PID 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for i in $(seq 100); do curl -fs http://127.0.0.1:18080/readyz >/dev/null && curl -s -o /dev/null http://127.0.0.1:18081/ &&
  curl -s -o /dev/null http://127.0.0.1:18082/ && curl -fs http://127.0.0.1:18083/readyz >/dev/null &&
  curl -fs http://127.0.0.1:18084/readyz >/dev/null && break; sleep 0.1; done

# `spoor run` stores what it answered with the sink in its own process, after the run: wait until it is
# idle (under 0.05 CPU s in a second, at most 180 s) so that its drain does not share the cores with the
# next target's run (it used to, and the collector, measured right after it, paid for it).
quiet() {
  local pid=$1 a b
  for _ in $(seq 180); do
    a=$(awk '{print $14+$15}' /proc/"$pid"/stat); sleep 1; b=$(awk '{print $14+$15}' /proc/"$pid"/stat)
    [ $((b - a)) -lt 5 ] && return 0
  done
  echo "spoor run still busy after 180 s" >&2
}

TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
for run in $(seq "$RUNS"); do
  for scenario in get_tuplet post_single post_single_eid post_batch20; do
    path=/tr/v1/; [ $scenario = get_tuplet ] && path=$TUPLET
    for target in nginx bare spoor collector nodurable; do
      case $target in nginx) port=18081 ;; bare) port=18082 ;; spoor) port=18080 ;; collector) port=18083 ;; nodurable) port=18084 ;; esac
      wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s scripts/bench/$scenario.lua "http://127.0.0.1:$port$path" \
        > "$W/out/$scenario.$target.$run.txt"
      echo "run $run $scenario $target: $(grep Requests/sec "$W/out/$scenario.$target.$run.txt")"
      if [ $target = spoor ]; then quiet $SPOOR_PID; fi
    done
  done
done
curl -s http://127.0.0.1:18080/metrics | grep -E '^spoor_collector_(events_acked|rejected)_total|^spoor_sink_messages_total' > "$W/out/metrics.txt" || true
python3 scripts/bench/report.py "$W/out" "$RUNS" "$CONNS" "$DURATION" > "$W/out/table.md"
cat "$W/out/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/out/table.md"
