#!/usr/bin/env bash
# A cached short link's click against spoor's own tracked GET tuplet and nginx answering `return 302`, in
# one session (issue 14's target: a short-link click costs no more than a tracked GET, ≥ 0.9× its
# throughput, and p99 ≤ 5 ms at half load):
#   nginx302  nginx, worker_processes auto, `return 302` (the ceiling of a redirect on this machine)
#   tuplet    GET /tr/v1/<tuplets> on `spoor run` (embedded JetStream, durable ack, file sink)
#   link      GET /l/bench on the same process: a cached short link, the click made durable, then 302
#   rdr       GET /rdr/v1/…?url=… on the same process: the allow-listed redirect
# wrk -t2 -c64 GET, RUNS times each alternated, medians; then p99 of tuplet, link and nginx at half the
# link's peak by the open-loop loadgen, each spoor run on a fresh instance. Results into docs/benchmarks.md (BENCH:links).
#   bash scripts/bench/links.sh          (RUNS=3 DURATION=10s CONNS=64)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/links
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-64}
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { apt-get update -q && apt-get install -y -q wrk nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/links; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/loadgen" ./scripts/bench/loadgen
cat > "$W/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $PWD/$W/nginx/nginx.pid;
error_log $PWD/$W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18181;
    location / { return 302 https://shop.example/spring; }
  }
}
CONF
TOKEN=bench-admin-token-0123456789
PIDS=() SPOOR=
trap 'for p in "${PIDS[@]}" $SPOOR; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & PIDS+=($!)
wait_port 127.0.0.1 18181 10
# start_spoor DIR: `spoor run` on a fresh data dir with the link created and cached.
start_spoor() {
  SPOOR_DATA_DIR="$1" SPOOR_HTTP_ADDR=127.0.0.1:18180 SPOOR_LOG_LEVEL=warn SPOOR_LINKS_ADMIN_TOKENS=$TOKEN \
    SPOOR_COLLECTOR_REDIRECT_HOSTS=shop.example "$W/spoor" -config config.json run 2>> "$W/spoor.log" & SPOOR=$!
  wait_port 127.0.0.1 18180 60
  curl -fsS -H "Authorization: Bearer $TOKEN" -d '{"slug":"bench","to":"https://shop.example/spring","fields":{"campaign":"bench"}}' \
    http://127.0.0.1:18180/admin/api/links > /dev/null
  local u; for u in "${!URL[@]}"; do curl -s -o /dev/null "${URL[$u]}"; done # warm: the link is cached from here on
}
stop_spoor() { kill -INT "$SPOOR"; wait "$SPOOR" 2>/dev/null || true; SPOOR=; }
TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
declare -A URL=([nginx302]=http://127.0.0.1:18181/r [tuplet]=http://127.0.0.1:18180$TUPLET [link]=http://127.0.0.1:18180/l/bench
  [rdr]="http://127.0.0.1:18180/rdr/v1/ename/click/app/bench?url=https%3A%2F%2Fshop.example%2Fspring")
start_spoor "$W/data"
TARGETS="nginx302 tuplet link rdr"
for run in $(seq "$RUNS"); do
  for t in $TARGETS; do
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "${URL[$t]}" > "$W/out/wrk.$t.$run.txt"
    say "run $run $t: $(grep Requests/sec "$W/out/wrk.$t.$run.txt")"
  done
done
sleep 2 # the last clicks' counts reach the store
curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:18180/admin/api/links/bench/stats > "$W/out/stats.json"
curl -s http://127.0.0.1:18180/metrics | grep -E '^spoor_collector_events_(acked|lost)_total' > "$W/out/metrics.txt" || true
stop_spoor
half=$(python3 -c "
import re,statistics
print(int(statistics.median(float(re.search(r'Requests/sec:\s+([\d.]+)', open(f'$W/out/wrk.link.{r}.txt').read()).group(1)) for r in range(1,$RUNS+1)) / 2))")
# Latency: each spoor run on a fresh instance, so the sink is not still writing the backlog of the
# throughput runs (as scripts/bench/latency.sh does).
say "p99 at $half req/s (half the short link's peak)"
for run in $(seq "$RUNS"); do
  for t in nginx302 tuplet link; do
    [ "$t" = nginx302 ] || start_spoor "$W/data-$t-$run"
    "$W/loadgen" -method GET -url "${URL[$t]}" -rate "$half" -duration 8s > "$W/out/lat.$t.$run.json"
    [ "$t" = nginx302 ] || stop_spoor
    say "run $run $t: $(cat "$W/out/lat.$t.$run.json")"
  done
done
python3 - "$W/out" "$RUNS" "$CONNS" "$DURATION" "$half" > "$W/table.md" <<'PY'
import re, statistics, sys, json, datetime
out, runs, conns, dur, half = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
med = statistics.median
def wrk(t):
    rs = [open(f"{out}/wrk.{t}.{r}.txt").read() for r in range(1, runs + 1)]
    rps = [float(re.search(r"Requests/sec:\s+([\d.]+)", x).group(1)) for x in rs]
    bad = sum(int(m.group(1)) for x in rs for m in [re.search(r"Non-2xx or 3xx responses: (\d+)", x)] if m)
    return med(rps), rps, bad
names = {"nginx302": "nginx `return 302` (worker_processes auto)", "tuplet": "spoor GET tuplet `/tr/v1/…` (durable)",
         "link": "spoor short link `/l/bench` (cached, click durable, 302)", "rdr": "spoor redirect `/rdr/v1/…?url=` (allow-listed)"}
tup = wrk("tuplet")[0]
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session: `spoor run` (embedded JetStream, file sink) and nginx; "
      f"wrk -t2 -c{conns} -d{dur} GET, {runs} runs alternated, medians. wrk and the server share the 2 cores.\n")
print("| target | req/s | ÷ tracked GET | ÷ nginx 302 | non-2xx/3xx | per run |")
print("|---|---|---|---|---|---|")
ng = wrk("nginx302")[0]
for t in ("nginx302", "tuplet", "link", "rdr"):
    m, rs, bad = wrk(t)
    r = m / tup
    print(f"| {names[t]} | {m:,.0f} | {'**%.2f×**' % r if t == 'link' else '%.2f×' % r} | {m / ng:.2f}× | {bad} | " + ", ".join(f"{x:,.0f}" for x in rs) + " |")
def lat(t):
    js = [json.load(open(f"{out}/lat.{t}.{r}.json")) for r in range(1, runs + 1)]
    return med(j["p50_ms"] for j in js), med(j["p99_ms"] for j in js), [j["p99_ms"] for j in js], sum(j["sent"] - j["ok"] for j in js)
print(f"\nOpen-loop latency at {half:,} req/s (half the short link's peak), GET, 8 s, medians of {runs} runs (scripts/bench/loadgen -method GET), "
      "each spoor run on a fresh instance (no backlog from the throughput runs in its sink):\n")
print("| target | p50 ms | p99 ms | p99 per run | failed |")
print("|---|---|---|---|---|")
for t in ("nginx302", "tuplet", "link"):
    p50, p99, per, bad = lat(t)
    print(f"| {names[t]} | {p50:.2f} | {'**%.2f**' % p99 if t == 'link' else '%.2f' % p99} | " + ", ".join(f"{x:.2f}" for x in per) + f" | {bad} |")
st = json.load(open(f"{out}/stats.json"))
print(f"\nThe link's counts at the end (`GET /admin/api/links/bench/stats`): {st['all']:,} clicks, {st['human']:,} human "
      "(wrk and loadgen send no User-Agent, so nothing flags them).")
m = open(f"{out}/metrics.txt").read().strip()
if m:
    print("\n```\n" + m + "\n```")
PY
cat "$W/table.md"
grep -q '<!-- BENCH:links -->' docs/benchmarks.md || printf '\n## Short links and redirects (`bash scripts/bench/links.sh`)\n\n<!-- BENCH:links -->\n<!-- /BENCH:links -->\n' >> docs/benchmarks.md
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" links
