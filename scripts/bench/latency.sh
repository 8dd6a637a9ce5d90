#!/usr/bin/env bash
# Latency at half load, measured open-loop (scripts/bench/loadgen), in one session:
#  1. collector: peak single-event rate of `spoor run` (file sink) by wrk, then p50/p99 at half and at a
#     quarter of it;
#  2. HTTP -> Cassandra row: the pipeline's sustained rate into the local Cassandra, then, at half of
#     it, each row's write time (writetime(), the sink's clock) minus its received_at (the collector's).
# Results go to .scratch/bench/latency.md and into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
W=.scratch/bench/latency; rm -rf "$W"; mkdir -p "$W"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/loadgen" ./scripts/bench/loadgen
go build -o "$W/cql" ./scripts/cql
PORT=18090 CPORT=${SPOOR_CASSANDRA_PORT:-19042} RUNS=${RUNS:-3}
PID=
run_spoor() { # data dir, extra env...
  local dir=$1; shift
  env SPOOR_DATA_DIR="$dir" SPOOR_HTTP_ADDR=127.0.0.1:$PORT SPOOR_LOG_LEVEL=warn "$@" "$W/spoor" -config config.json run 2>>"$W/spoor.log" &
  PID=$!
  for _ in $(seq 300); do curl -fs http://127.0.0.1:$PORT/readyz >/dev/null && return 0; sleep 0.1; done
  echo "spoor did not start"; cat "$W/spoor.log"; exit 1
}
stop_spoor() { kill -INT "$PID"; wait "$PID" || true; }
trap '[ -n "$PID" ] && kill $PID 2>/dev/null || true' EXIT

# 1. collector: wrk's peak on one instance; then RUNS open-loop runs at half of it and at a quarter,
#    each on a fresh instance, so the sink is not still draining the backlog of the peak test. The
#    events are the same shape as wrk's (no client id), so both measure the same path.
run_spoor "$W/data-peak"
peak=$(wrk -t2 -c64 -d8s -s scripts/bench/post_single.lua http://127.0.0.1:$PORT/tr/v1/ | awk '/Requests\/sec/ {print int($2)}')
stop_spoor
half=$((peak / 2))
for div in 2 4; do
  for r in $(seq "$RUNS"); do
    run_spoor "$W/data-$div-$r"
    "$W/loadgen" -url http://127.0.0.1:$PORT/tr/v1/ -rate "$((peak / div))" -duration 15s > "$W/collector.$div.$r.json"
    stop_spoor
    echo "run $r at $((peak / div)) req/s: $(cat "$W/collector.$div.$r.json")"
  done
done

# 2. HTTP -> Cassandra row
bash scripts/cassandra.sh start
# Fresh keyspaces: rows of an earlier session would count towards this one's totals and latencies.
"$W/cql" -hosts 127.0.0.1:$CPORT "DROP KEYSPACE IF EXISTS spoor_lat_peak" "DROP KEYSPACE IF EXISTS spoor_lat_half" >/dev/null
run_spoor "$W/data-cass1" SPOOR_CASSANDRA_HOSTS=127.0.0.1:$CPORT SPOOR_CASSANDRA_KEYSPACE=spoor_lat_peak
t0=$(date +%s.%N)
"$W/loadgen" -url http://127.0.0.1:$PORT/tr/v1/ -rate 4000 -duration 10s > "$W/peak.json"
sent=$(python3 -c "import json;print(json.load(open('$W/peak.json'))['ok'])")
until [ "$("$W/cql" -hosts 127.0.0.1:$CPORT "SELECT count(*) AS n FROM spoor_lat_peak.events_by_day" | python3 -c 'import json,sys;print(json.loads(sys.stdin.read())["n"])')" -ge "$sent" ]; do sleep 0.5; done
t1=$(date +%s.%N)
stop_spoor
sustained=$(python3 -c "print(int($sent / ($t1 - $t0)))")
chalf=$((sustained / 2))
run_spoor "$W/data-cass2" SPOOR_CASSANDRA_HOSTS=127.0.0.1:$CPORT SPOOR_CASSANDRA_KEYSPACE=spoor_lat_half
"$W/loadgen" -url http://127.0.0.1:$PORT/tr/v1/ -rate "$chalf" -duration 20s > "$W/half.json"
sleep 5
stop_spoor
"$W/cql" -hosts 127.0.0.1:$CPORT "SELECT ts, writetime(event_name) AS wt FROM spoor_lat_half.events_by_day" > "$W/rows.jsonl"

python3 - "$W" "$peak" "$half" "$sustained" "$chalf" "$RUNS" <<'PY'
import json, sys, datetime, statistics
w, peak, half, sustained, chalf, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
def collector_row(div, label):
    cols = [json.load(open(f"{w}/collector.{div}.{r}.json")) for r in range(1, runs + 1)]
    col = {k: statistics.median(c[k] for c in cols) for k in ("p50_ms", "p99_ms", "max_ms")}
    ok, sent = sum(c["ok"] for c in cols), sum(c["sent"] for c in cols)
    p99s = ", ".join(f"{c['p99_ms']:.1f}" for c in cols)
    return (f"| collector answer (`spoor run`, file sink; peak by wrk in the same session: {peak:,} req/s; median of {runs} runs of 15 s, "
            f"each on a fresh instance; p99 per run: {p99s} ms) | {peak // div:,} req/s ({label} of peak), {ok:,} answered 200 of {sent:,} | "
            f"{col['p50_ms']:.2f} ms | {col['p99_ms']:.2f} ms | {col['max_ms']:.1f} ms |\n")
lat = []
for line in open(f"{w}/rows.jsonl"):
    r = json.loads(line)
    ts = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp() * 1000
    lat.append(r["wt"] / 1000 - ts)
lat.sort()
p = lambda q: lat[int(q * (len(lat) - 1))]
out = (f"Measured {datetime.date.today()}, open-loop load (scripts/bench/loadgen), single JSON events.\n\n"
       "| what | load | p50 | p99 | max |\n|---|---|---|---|---|\n"
       + collector_row(2, "half") + collector_row(4, "a quarter") +
       f"| HTTP → Cassandra row (`spoor run` with Cassandra, sessions on; sustained {sustained:,} events/s) | {chalf:,} events/s (half), {len(lat):,} rows | {p(0.5):.0f} ms | {p(0.99):.0f} ms | {lat[-1]:.0f} ms |\n")
open(f"{w}/latency.md", "w").write(out)
print(out)
import re
doc = "docs/benchmarks.md"
text = open(doc).read()
text = re.sub(r"(<!-- BENCH:latency -->\n).*?(<!-- /BENCH:latency -->)", lambda m: m.group(1) + out + m.group(2), text, flags=re.S)
open(doc, "w").write(text)
PY
