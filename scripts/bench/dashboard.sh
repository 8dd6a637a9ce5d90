#!/usr/bin/env bash
# A hundred open dashboards must not slow the collector (issue 16): tracked POSTs to `spoor run` with no
# viewer, then with 100 dashboard streams open (scripts/bench/viewers: the page's own query, rates and
# health every second, at most 50 events a second each), alternated RUNS times on one instance, with
# nginx answering 204 as the session's baseline. wrk -t2 -cCONNS POST one event; medians into
# docs/benchmarks.md (BENCH:dashboard).
#   bash scripts/bench/dashboard.sh          (RUNS=3 DURATION=10s CONNS=64 VIEWERS=100)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/dashboard
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-64} VIEWERS=${VIEWERS:-100}
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { apt-get update -q && apt-get install -y -q wrk nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/dashboard; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/viewers" ./scripts/bench/viewers
cat > "$W/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $PWD/$W/nginx/nginx.pid;
error_log $PWD/$W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:18181; location / { return 204; } }
}
CONF
TOKEN=bench-admin-token-0123456789
PIDS=() SPOOR= VIEW=
trap 'for p in "${PIDS[@]}" $SPOOR $VIEW; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & PIDS+=($!)
wait_port 127.0.0.1 18181 10
SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18180 SPOOR_LOG_LEVEL=warn SPOOR_LINKS_ADMIN_TOKENS=$TOKEN \
  "$W/spoor" -config config.json run 2>> "$W/spoor.log" & SPOOR=$!
wait_port 127.0.0.1 18180 60
LUA=scripts/bench/post_single.lua
for run in $(seq "$RUNS"); do
  wrk -t2 -c"$CONNS" -d"$DURATION" -s "$LUA" http://127.0.0.1:18181/ > "$W/out/wrk.nginx.$run.txt"
  say "run $run nginx: $(grep Requests/sec "$W/out/wrk.nginx.$run.txt")"
  wrk -t2 -c"$CONNS" -d"$DURATION" -s "$LUA" http://127.0.0.1:18180/tr/v1/ > "$W/out/wrk.none.$run.txt"
  say "run $run no viewer: $(grep Requests/sec "$W/out/wrk.none.$run.txt")"
  "$W/viewers" -url http://127.0.0.1:18180 -token "$TOKEN" -n "$VIEWERS" -duration 1h > "$W/out/viewers.$run.json" & VIEW=$!
  sleep 2
  curl -s http://127.0.0.1:18180/metrics > /dev/null
  wrk -t2 -c"$CONNS" -d"$DURATION" -s "$LUA" http://127.0.0.1:18180/tr/v1/ > "$W/out/wrk.viewers.$run.txt"
  kill -INT "$VIEW"; wait "$VIEW" 2>/dev/null || true; VIEW=
  say "run $run $VIEWERS viewers: $(grep Requests/sec "$W/out/wrk.viewers.$run.txt"); $(cat "$W/out/viewers.$run.json")"
done
kill -INT "$SPOOR"; wait "$SPOOR" 2>/dev/null || true; SPOOR=
python3 - "$W/out" "$RUNS" "$CONNS" "$DURATION" "$VIEWERS" > "$W/table.md" <<'PY'
import re, statistics, sys, json, datetime
out, runs, conns, dur, viewers = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def wrk(t):
    rps = [float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{out}/wrk.{t}.{r}.txt").read()).group(1)) for r in range(1, runs + 1)]
    return statistics.median(rps), rps
ng, none, vw = wrk("nginx"), wrk("none"), wrk("viewers")
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session, one `spoor run` (embedded JetStream, file sink): wrk -t2 "
      f"-c{conns} -d{dur} POST of one event (scripts/bench/post_single.lua), {runs} runs alternated, medians. With viewers: "
      f"{viewers} dashboard streams open during the run (scripts/bench/viewers, the page's own query: rates and health every second, "
      "at most 50 events a second each), on the same 2 cores.\n")
print("| target | req/s | ÷ no viewer | ÷ nginx 204 | per run |")
print("|---|---|---|---|---|")
for name, (m, rs) in (("nginx `return 204`", ng), ("spoor, no viewer", none), (f"spoor, {viewers} dashboards open", vw)):
    print(f"| {name} | {m:,.0f} | {m / none[0]:.2f}× | {m / ng[0]:.2f}× | " + ", ".join(f"{x:,.0f}" for x in rs) + " |")
v = [json.load(open(f"{out}/viewers.{r}.json")) for r in range(1, runs + 1)]
print(f"\nThe viewers stayed connected ({', '.join(str(x['viewers']) for x in v)} of {viewers} per run) and received "
      f"{', '.join(format(x['events'], ',') for x in v)} events and "
      f"{', '.join(str(x['rates']) for x in v)} rate updates in all: one stream subscription fed them all (live.Hub).")
PY
cat "$W/table.md"
grep -q '<!-- BENCH:dashboard -->' docs/benchmarks.md || printf '\n## A hundred open dashboards (`bash scripts/bench/dashboard.sh`)\n\n<!-- BENCH:dashboard -->\n<!-- /BENCH:dashboard -->\n' >> docs/benchmarks.md
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" dashboard
