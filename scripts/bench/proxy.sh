#!/usr/bin/env bash
# The tracking proxy against Caddy's reverse_proxy, in one session, in front of the same backend (nginx
# answering a 1 KiB page): throughput by wrk (GET, -c64), then p99 at half of the slowest proxy's peak by
# the open-loop loadgen (POST), for
#   backend   nginx alone (the ceiling)
#   caddy     Caddy v2 `reverse_proxy`, built from its Go module (.cache/bin/caddy)
#   spoor     `spoor proxy` (proxy.engine fasthttp, the default): every request tracked, each event made durable
#             in a nats-server (JetStream, file store) on this machine before it counts; the sink runs elsewhere
#             in production, so not here
#   spoornet  the same with proxy.engine net/http (what HTTPS with HTTP/2 runs on)
#   nethttp   scripts/bench/proxyproto on net/http's ReverseProxy, no tracking  } the measurement behind
#   fasthttp  scripts/bench/proxyproto on fasthttp's HostClient, no tracking    } docs/decisions/0003
#   hybrid    scripts/bench/proxyproto: net/http's server, fasthttp's client    }
# then every target's p99 at the same rate. RUNS times each, alternated; medians into docs/benchmarks.md (BENCH:proxy).
#   bash scripts/bench/proxy.sh          (RUNS=3 DURATION=10s CONNS=64)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/proxy
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-64} CADDY=v2.11.9
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { apt-get update -q && apt-get install -y -q wrk nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/proxy; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out"
[ -x .cache/bin/caddy ] && go version -m .cache/bin/caddy | grep -qE "caddyserver/caddy/v2\s+$CADDY" ||
  { say "building caddy $CADDY"; GOBIN=$PWD/.cache/bin go install "github.com/caddyserver/caddy/v2/cmd/caddy@$CADDY"; }
go build -o "$W/spoor" ./cmd/spoor
[ -x .cache/bin/nats-server ] || go build -o .cache/bin/nats-server github.com/nats-io/nats-server/v2
go build -o "$W/proxyproto" ./scripts/bench/proxyproto
go build -o "$W/loadgen" ./scripts/bench/loadgen
page=$(python3 -c 'print("<html>" + "spoor " * 168 + "</html>")')
cat > "$W/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $PWD/$W/nginx/nginx.pid;
error_log $PWD/$W/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $PWD/$W/nginx/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18092;
    location / { default_type text/html; return 200 "$page"; }
  }
}
CONF
cat > "$W/Caddyfile" <<CONF
{
	admin off
	auto_https off
	persist_config off
}
http://127.0.0.1:18093 {
	reverse_proxy 127.0.0.1:18092
}
CONF
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done' EXIT
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & PIDS+=($!)
.cache/bin/caddy run --config "$W/Caddyfile" --adapter caddyfile > "$W/caddy.log" 2>&1 & PIDS+=($!)
.cache/bin/nats-server -js -sd "$W/nats" -a 127.0.0.1 -p 18098 > "$W/nats.log" 2>&1 & PIDS+=($!)
wait_port 127.0.0.1 18098 30
SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18095 SPOOR_LOG_LEVEL=warn SPOOR_NATS_URL=nats://127.0.0.1:18098 \
  SPOOR_PROXY_ADDR=127.0.0.1:18094 SPOOR_PROXY_UPSTREAMS=http://127.0.0.1:18092 "$W/spoor" -config config.json proxy 2> "$W/spoor.log" & PIDS+=($!)
SPOOR_DATA_DIR="$W/data2" SPOOR_HTTP_ADDR=127.0.0.1:18091 SPOOR_LOG_LEVEL=warn SPOOR_NATS_URL=nats://127.0.0.1:18098 SPOOR_PROXY_ENGINE=net/http \
  SPOOR_PROXY_ADDR=127.0.0.1:18090 SPOOR_PROXY_UPSTREAMS=http://127.0.0.1:18092 "$W/spoor" -config config.json proxy 2> "$W/spoornet.log" & PIDS+=($!)
"$W/proxyproto" -impl nethttp -addr 127.0.0.1:18096 -upstream 127.0.0.1:18092 & PIDS+=($!)
"$W/proxyproto" -impl fasthttp -addr 127.0.0.1:18097 -upstream 127.0.0.1:18092 & PIDS+=($!)
"$W/proxyproto" -impl hybrid -addr 127.0.0.1:18099 -upstream 127.0.0.1:18092 & PIDS+=($!)
declare -A PORT=([backend]=18092 [caddy]=18093 [spoor]=18094 [spoornet]=18090 [nethttp]=18096 [fasthttp]=18097 [hybrid]=18099)
for t in "${!PORT[@]}"; do wait_port 127.0.0.1 "${PORT[$t]}" 60 || { say "$t did not start"; exit 1; }; done
TARGETS="backend caddy spoor spoornet nethttp fasthttp hybrid"
for t in $TARGETS; do curl -fsS "http://127.0.0.1:${PORT[$t]}/warmup" >/dev/null; done
for run in $(seq "$RUNS"); do
  for t in $TARGETS; do
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:${PORT[$t]}/page" > "$W/out/wrk.$t.$run.txt"
    say "run $run $t: $(grep Requests/sec "$W/out/wrk.$t.$run.txt")"
  done
done
rps() { python3 -c "
import re,statistics,sys
print(int(statistics.median(float(re.search(r'Requests/sec:\s+([\d.]+)', open(f'$W/out/wrk.$1.{r}.txt').read()).group(1)) for r in range(1,$RUNS+1))))"; }
half=$(( $(rps caddy) / 2 ))
for t in spoor spoornet; do if [ "$(rps $t)" -lt $((half * 2)) ]; then half=$(( $(rps $t) / 2 )); fi; done
say "p99 at $half req/s (half the slowest proxy's peak)"
for run in $(seq "$RUNS"); do
  for t in $TARGETS; do
    "$W/loadgen" -url "http://127.0.0.1:${PORT[$t]}/lat" -rate "$half" -duration 8s > "$W/out/lat.$t.$run.json"
    say "run $run $t: $(cat "$W/out/lat.$t.$run.json")"
  done
done
{ curl -s http://127.0.0.1:18095/metrics; curl -s http://127.0.0.1:18091/metrics; } |
  grep -E '^spoor_proxy_events_total|^spoor_collector_events_acked_total' > "$W/out/metrics.txt" || true
python3 - "$W/out" "$RUNS" "$CONNS" "$DURATION" "$half" > "$W/table.md" <<'PY'
import re, statistics, sys, json, datetime
out, runs, conns, dur, half = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
med = statistics.median
def wrk(t):
    rs = [open(f"{out}/wrk.{t}.{r}.txt").read() for r in range(1, runs + 1)]
    rps = [float(re.search(r"Requests/sec:\s+([\d.]+)", x).group(1)) for x in rs]
    bad = sum(int(m.group(1)) for x in rs for m in [re.search(r"Non-2xx or 3xx responses: (\d+)", x)] if m)
    return med(rps), rps, bad
def lat(t):
    js = [json.load(open(f"{out}/lat.{t}.{r}.json")) for r in range(1, runs + 1)]
    return med(j["p50_ms"] for j in js), med(j["p99_ms"] for j in js), sum(j["sent"] - j["ok"] for j in js)
names = {"backend": "nginx alone (the backend)", "caddy": "Caddy v2.11.9 `reverse_proxy`",
         "spoor": "`spoor proxy` tracking every request (each event durable in JetStream), fasthttp engine (default)",
         "spoornet": "`spoor proxy` tracking every request, `proxy.engine: net/http`", "nethttp": "net/http `ReverseProxy`, no tracking (proxyproto)",
         "fasthttp": "fasthttp `HostClient`, no tracking (proxyproto)",
         "hybrid": "net/http server + fasthttp `HostClient`, no tracking (proxyproto)"}
caddy = wrk("caddy")[0]
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session: every target in front of the same nginx "
      f"(1 worker) answering a 1 KiB page; wrk -t2 -c{conns} -d{dur} GET, {runs} runs alternated, medians. "
      "wrk, nginx, the proxy (and for spoor the nats-server making each request's event durable) share the 2 cores.\n")
print("| target | req/s | ÷ Caddy | non-2xx | per run |")
print("|---|---|---|---|---|")
for t in ("backend", "caddy", "spoor", "spoornet", "nethttp", "fasthttp", "hybrid"):
    m, rs, bad = wrk(t)
    print(f"| {names[t]} | {m:,.0f} | {'**%.2f×**' % (m / caddy) if t == 'spoor' else '%.2f×' % (m / caddy)} | {bad} | " + ", ".join(f"{x:,.0f}" for x in rs) + " |")
b50, b99, _ = lat("backend")
print(f"\nOpen-loop latency at {half:,} req/s (half the slowest proxy's peak), POST, 8 s, medians of {runs} runs "
      "(scripts/bench/loadgen: from each request's scheduled start, no coordinated omission):\n")
print("| target | p50 ms | p99 ms | p99 added over the backend alone | p99 per run | failed |")
print("|---|---|---|---|---|---|")
for t in ("backend", "caddy", "spoor", "spoornet", "nethttp", "fasthttp", "hybrid"):
    p50, p99, bad = lat(t)
    added = "" if t == "backend" else (f"**{p99 - b99:+.2f} ms**" if t == "spoor" else f"{p99 - b99:+.2f} ms")
    runs99 = ", ".join(f"{json.load(open(f'{out}/lat.{t}.{r}.json'))['p99_ms']:.2f}" for r in range(1, runs + 1))
    print(f"| {names[t]} | {p50:.2f} | {p99:.2f} | {added} | {runs99} | {bad} |")
m = open(f"{out}/metrics.txt").read().strip()
if m:
    print("\nspoor's counters at the end (every proxied request an event, none lost):\n\n```\n" + m + "\n```")
PY
cat "$W/table.md"
grep -q '<!-- BENCH:proxy -->' docs/benchmarks.md || printf '\n## The tracking proxy (`bash scripts/bench/proxy.sh`)\n\n<!-- BENCH:proxy -->\n<!-- /BENCH:proxy -->\n' >> docs/benchmarks.md
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" proxy
