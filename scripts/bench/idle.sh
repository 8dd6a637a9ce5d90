#!/usr/bin/env bash
# Memory at 10,000 idle keep-alive connections (scripts/bench/idleconns: each connection sends one
# tracked GET, then idles; RSS read after 10 s of idling; then a second request on every connection
# proves each is still served). Targets, alternated in one session, RUNS times each, medians into
# docs/benchmarks.md: nginx answering 204 (worker_connections raised), a bare fasthttp server with
# default settings and with the collector's idle-connection settings (scripts/bench/bare -low-memory:
# what fasthttp itself needs per connection, the floor for spoor), `spoor run`, and `spoor collector`
# alone (the role that holds the clients' connections when split) with a nats-server beside it.
#   bash scripts/bench/idle.sh          (RUNS=3 CONNS=10000)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
RUNS=${RUNS:-3} CONNS=${CONNS:-10000}
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { apt-get update -q && apt-get install -y -q nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/idle; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out"
# Built as shipped (Makefile `build`, the Dockerfile): static, without symbol tables.
export CGO_ENABLED=0
go build -trimpath -ldflags="-s -w" -o "$W/spoor" ./cmd/spoor
go build -trimpath -ldflags="-s -w" -o "$W/bare" ./scripts/bench/bare
go build -o "$W/idleconns" ./scripts/bench/idleconns
NATS_BIN=.cache/bin/nats-server
[ -x "$NATS_BIN" ] || go build -o "$NATS_BIN" github.com/nats-io/nats-server/v2
NPID=
sed -e "s#NGINX_DIR#$PWD/$W/nginx#g" -e "s/worker_connections 4096/worker_connections 16384/" -e "s/worker_processes auto/worker_processes 1/" \
  scripts/bench/nginx.conf > "$W/nginx/nginx.conf"
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; [ -n "$NPID" ] && kill $NPID 2>/dev/null; true' EXIT
for run in $(seq "$RUNS"); do
  for target in nginx bare bare-low spoor collector; do
    case $target in
      nginx) "$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & PID=$!; port=18081 ;;
      bare) "$W/bare" -addr 127.0.0.1:18082 & PID=$!; port=18082 ;;
      bare-low) "$W/bare" -addr 127.0.0.1:18085 -low-memory & PID=$!; port=18085 ;;
      spoor) rm -rf "$W/data"; SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18080 SPOOR_LOG_LEVEL=warn \
               "$W/spoor" -config config.json run 2> "$W/spoor.log" & PID=$!; port=18080 ;;
      collector) rm -rf "$W/data" "$W/nats"; "$NATS_BIN" -js -sd "$W/nats" -a 127.0.0.1 -p 14322 2> "$W/nats.log" & NPID=$!
               wait_port 127.0.0.1 14322 30
               SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18086 SPOOR_LOG_LEVEL=warn SPOOR_NATS_URL=nats://127.0.0.1:14322 \
               "$W/spoor" -config config.json collector 2> "$W/collector.log" & PID=$!; port=18086 ;;
    esac
    wait_port 127.0.0.1 $port 30
    sleep 3 # spoor hands back its start-up code pages 2 s after start: "before" is after that
    rss_pid=$PID
    [ $target = nginx ] && rss_pid=$(pgrep -P "$PID" | head -1) # the worker holds the connections
    "$W/idleconns" -addr 127.0.0.1:$port -conns "$CONNS" -pid "$rss_pid" -settle 10s > "$W/out/$target.$run.json"
    echo "run $run $target: $(cat "$W/out/$target.$run.json")"
    kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
    if [ -n "$NPID" ]; then kill -TERM "$NPID"; wait "$NPID" 2>/dev/null || true; NPID=; fi
    sleep 1
  done
done
python3 - "$W/out" "$RUNS" "$CONNS" > "$W/table.md" <<'PY'
import json, sys, statistics, datetime
out, runs, conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
med = statistics.median
rows = []
targets = ("nginx", "bare", "bare-low", "spoor", "collector")
res = {t: [json.load(open(f"{out}/{t}.{r}.json")) for r in range(1, runs + 1)] for t in targets}
nginx_idle = med(r["rss_idle_mb"] for r in res["nginx"])
print(f"Measured {datetime.date.today()} on 2 cores, loopback: {conns:,} keep-alive connections, each sends one tracked GET and "
      f"idles; resident memory (VmRSS) after 10 s of idling, then a second request on every connection. Medians of {runs} runs, "
      "the servers alternated in one session (nginx: its one worker process; spoor built as shipped: static, "
      "`-trimpath -ldflags='-s -w'`). Of the RSS, *file-backed* is the part mapped from the executable (its code and "
      "read-only data, clean pages shared with the page cache); the rest is the process's own memory.\n")
print("| server | RSS before | RSS with the connections idle | of it file-backed | per idle connection | second requests answered | per run (idle) |")
print("|---|---|---|---|---|---|---|")
labels = {"nginx": "nginx `return 204` (1 worker)", "bare": "bare fasthttp 204, default settings",
          "bare-low": "bare fasthttp 204, the collector's settings (`ReduceMemoryUsage`, 16 KiB read buffer)",
          "spoor": "`spoor run` (collector, embedded JetStream, file sink)",
          "collector": "`spoor collector` alone (nats-server beside it, not counted)"}
for t in targets:
    rs = res[t]
    before, idle = med(r["rss_before_mb"] for r in rs), med(r["rss_idle_mb"] for r in rs)
    per = (idle - before) * 1024 / conns
    answered = min(r["second_answered"] for r in rs)
    filed = med(r.get("rss_file_idle_mb", 0) for r in rs)
    print(f"| {labels[t]} | {before:.0f} MB | **{idle:.0f} MB** | {filed:.0f} MB | {per:.1f} KB | {answered:,} of {conns:,} | "
          + ", ".join(f"{r['rss_idle_mb']:.0f}" for r in rs) + " MB |")
PY
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" idle
