#!/usr/bin/env bash
# The cluster's figures (scripts/cluster.sh: 3 NATS, 3 Cassandra at RF 3), RUNS times each, medians
# into docs/benchmarks.md:
#  1. sustained events/s HTTP -> Cassandra rows, 1 collector + 1 sink against 2 + 2, one stream
#     against 3 partitions: OFFER events/s (more than the pipeline stores) for 25 s through the
#     collectors; rows stored per second between 10 s and 25 s; the CPU seconds every member spent
#     per 1,000 events over the whole run (load and drain), which is what the sizing model uses;
#  2. at half of that rate, the p99 of the collectors' answers and the p99 HTTP -> row (each row's
#     writetime() minus its received_at);
#  3. the collectors alone (sinks stopped): peak accepted events/s with wrk (batches of 20) against
#     one stream and against 3 partitions, and NATS's CPU per 1,000 events;
#  4. the drain rate after a 2-minute Cassandra outage (scripts/faults -faults cassandra-outage).
#   bash scripts/bench/cluster.sh          (RUNS=3 OFFER=1500 DRAIN_RUNS=3; about 75 minutes)
#   PHASES="drain bytes" bash scripts/bench/cluster.sh   (only some phases: load ingest drain bytes; the report always)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/cluster
RUNS=${RUNS:-3} OFFER=${OFFER:-1500} DRAIN_RUNS=${DRAIN_RUNS:-3}
PHASES=${PHASES:-load ingest drain bytes}
phase() { [[ " $PHASES " == *" $1 "* ]]; }
W=.scratch/bench/cluster
if phase load; then rm -rf "$W"; fi
mkdir -p "$W"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
go build -o "$W/loadgen" ./scripts/bench/loadgen
go build -o "$W/cql" ./scripts/cql
CL=.scratch/cluster
port_open 127.0.0.1 18181 || bash scripts/cluster.sh start
CQL="$W/cql -hosts 127.0.0.1:29042,127.0.0.2:29042,127.0.0.3:29042"

cpu() { # total CPU seconds of a member's process
  local pidf=$CL/pids/$1.pid
  case $1 in cass*) pidf=$CL/cass${1#cass}/cassandra.pid ;; esac
  [ -f "$pidf" ] && awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14+$15)/t}' "/proc/$(cat "$pidf")/stat" 2>/dev/null || echo 0
}
MEMBERS="collector1 collector2 sink1 sink2 nats1 nats2 nats3 cass1 cass2 cass3"
cpus() { for m in $MEMBERS; do printf '%s=%s ' "$m" "$(cpu "$m")"; done; }
# shellcheck source=scripts/bench/clusterlib.sh
. scripts/bench/clusterlib.sh
# shape COLLECTORS SINKS PARTITIONS: (re)start the spoor members in that shape
shape() {
  for m in collector1 collector2 sink1 sink2; do bash scripts/cluster.sh down $m >/dev/null 2>&1 || true; done
  export PARTITIONS=$3
  if [ "$2" -ge 1 ]; then bash scripts/cluster.sh up sink1; fi
  if [ "$2" -ge 2 ]; then bash scripts/cluster.sh up sink2; fi
  bash scripts/cluster.sh up collector1
  if [ "$1" -ge 2 ]; then bash scripts/cluster.sh up collector2; fi
  for _ in $(seq 120); do curl -fs http://127.0.0.1:18181/readyz >/dev/null && break; sleep 0.5; done
  sleep 2
}
load() { # load APP RATE SECONDS COLLECTORS OUT: split over the collectors, loadgen per collector
  local app=$1 rate=$2 secs=$3 n=$4 out=$5 i
  for i in $(seq "$n"); do
    "$W/loadgen" -url "http://127.0.0.1:$((18180 + i))/tr/v1/" -rate $((rate / n)) -duration "${secs}s" -app "$app" -client-ids > "$out.$i.json" &
  done
  wait
}

for run in $(seq "$RUNS"); do
  phase load || break
  for shp in "1 1 1" "2 2 1" "1 1 3" "2 2 3"; do
    set -- $shp
    tag="c$1s$2p$3"
    say "run $run: $1 collector(s), $2 sink(s), $3 partition(s)"
    shape "$1" "$2" "$3"
    app="bench_${tag}_r${run}_$(date +%s)"
    before=$(cpus)
    t0=$(date +%s.%N)
    load "$app" "$OFFER" 25 "$1" "$W/$tag.$run.offer" &
    sleep 10; r10=$(rows "$app"); t10=$(date +%s.%N)
    wait
    r25=$(rows "$app"); t25=$(date +%s.%N)
    until [ "$(backlog)" = 0 ]; do sleep 1; done
    sleep 2
    total=$(rows "$app")
    after=$(cpus)
    # half of the sustained rate: latencies
    sustained=$(python3 -c "print(int(($r25 - $r10) / ($t25 - $t10)))")
    half="${app}_half"
    load "$half" $((sustained / 2)) 20 "$1" "$W/$tag.$run.half"
    until [ "$(backlog)" = 0 ]; do sleep 1; done
    sleep 2
    for b in $(seq 0 15); do
      $CQL "SELECT ts, writetime(event_name) AS wt FROM spoor.events_by_day WHERE app = '$half' AND day = '$(date -u +%F)' AND bucket = $b"
    done > "$W/$tag.$run.rows.jsonl"
    python3 - "$W/$tag.$run.json" "$sustained" "$total" "$before" "$after" "$W/$tag.$run" "$1" <<'PY'
import json, sys, glob, datetime
out, sustained, total, before, after, prefix, ncoll = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7])
parse = lambda s: {k: float(v) for k, v in (kv.split("=") for kv in s.split())}
b, a = parse(before), parse(after)
cpu = {k: round((a[k] - b[k]) / total * 1000, 3) for k in a}  # CPU seconds per 1,000 events
half = [json.load(open(f)) for f in sorted(glob.glob(prefix + ".half.*.json"))]
lat = []
for line in open(prefix + ".rows.jsonl"):
    r = json.loads(line)
    ts = datetime.datetime.fromisoformat(r["ts"].replace("Z", "+00:00")).timestamp() * 1000
    lat.append(r["wt"] / 1000 - ts)
lat.sort()
json.dump({"sustained": sustained, "total": total, "cpu_per_1k": cpu,
           "req_p99_ms": max(h["p99_ms"] for h in half), "req_p50_ms": max(h["p50_ms"] for h in half),
           "row_p50_ms": lat[len(lat) // 2], "row_p99_ms": lat[int(0.99 * (len(lat) - 1))], "rows_half": len(lat)}, open(out, "w"))
PY
    say "$tag run $run: $(cat "$W/$tag.$run.json")"
  done
done

# Bytes per event on the bus: the single stream holds only phase 1's events so far (one event per
# message: the load generator sends client ids).
phase load && curl -fs "http://127.0.0.1:28222/jsz?streams=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [s for a in d.get("account_details") or [] for s in a.get("stream_detail") or [] if s["name"] == "SPOOR_EVENTS"][0]["state"]
print(json.dumps({"bus_bytes_per_event": s["bytes"] / max(s["messages"], 1)}))' > "$W/bus.json"

# 3. collectors alone: the bus's ingest ceiling, one stream against three. Into streams of their own
# that expire after a minute: nobody consumes them, and the sinks' streams stay clean.
for run in $(seq "$RUNS"); do
  phase ingest || break
  for p in 1 3; do
    SPOOR_NATS_STREAM=BENCH_INGEST SPOOR_NATS_SUBJECT=bench.ingest SPOOR_NATS_MAX_AGE=1m shape 2 0 "$p"
    before=$(cpus)
    for i in 1 2; do wrk -t1 -c32 -d10s -s scripts/bench/post_batch20.lua "http://127.0.0.1:$((18180 + i))/tr/v1/" > "$W/ingest.p$p.$run.$i.txt" & done
    wait
    after=$(cpus)
    python3 - "$W/ingest.p$p.$run" "$before" "$after" <<'PY'
import json, sys, re
prefix, before, after = sys.argv[1:4]
rps = sum(float(re.search(r"Requests/sec:\s+([\d.]+)", open(f"{prefix}.{i}.txt").read()).group(1)) for i in (1, 2))
parse = lambda s: {k: float(v) for k, v in (kv.split("=") for kv in s.split())}
b, a = parse(before), parse(after)
events = rps * 20 * 10
json.dump({"events_per_s": rps * 20, "cpu_per_1k": {k: round((a[k] - b[k]) / events * 1000, 4) for k in a}}, open(prefix + ".json", "w"))
PY
    say "ingest p$p run $run: $(cat "$W/ingest.p$p.$run.json")"
  done
done
phase ingest && shape 2 2 3 # the cluster as cluster.sh leaves it

# 4. drain after a 2-minute Cassandra outage
. "$CL/spoor.env"
for run in $(seq "$DRAIN_RUNS"); do
  phase drain || break
  until [ "$(backlog)" = 0 ]; do sleep 2; done
  go run ./scripts/faults -faults cassandra-outage -results "$W/drain.jsonl" > "$W/drain.$run.log" 2>&1 || true
  say "drain run $run: $(tail -1 "$W/drain.jsonl")"
done

# 5. bytes per event in Cassandra: stop the nodes (a clean stop flushes the memtables into
# SSTables), measure one node's event tables (RF 3 on three nodes: each holds every row), count rows.
if phase bytes; then
for n in 1 2 3; do bash scripts/cluster.sh down cass$n; done
sst=$(du -sbc $CL/cass1/data/data/spoor/events_by_day-* $CL/cass1/data/data/spoor/visitor_events-* | tail -1 | cut -f1)
for n in 1 2 3; do CASSANDRA_NO_WAIT=1 bash scripts/cluster.sh up cass$n >/dev/null 2>&1 & done; wait
for n in 1 2 3; do wait_port 127.0.0.$n 29042 240; done
# Rows: counted partition by partition (a count(*) of the whole table times out).
nrows=$($W/cql -hosts 127.0.0.1:29042 "SELECT DISTINCT app, day, bucket FROM spoor.events_by_day" | python3 -c '
import json, sys
for line in sys.stdin:
    p = json.loads(line)
    print("SELECT count(*) AS n FROM spoor.events_by_day WHERE app = %s AND day = %s AND bucket = %d" % (
        "\x27" + p["app"] + "\x27", "\x27" + p["day"][:10] + "\x27", p["bucket"]))' | tr '\n' '\0' | xargs -0 $W/cql -hosts 127.0.0.1:29042 |
  python3 -c 'import json,sys;print(sum(json.loads(l)["n"] for l in sys.stdin))')
body=$(printf '{"eid":"%s","ename":"load","app":"bench_c2s2p3_r1_1795855505","vid":"v-1234","url":"https://shop.example/p/123"}' "$(uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid)")
head="POST /tr/v1/ HTTP/1.1\r\nHost: 127.0.0.1:18181\r\nContent-Type: application/json\r\nUser-Agent: fasthttp\r\nContent-Length: ${#body}\r\n\r\n"
python3 - "$W" "$sst" "$nrows" "$(printf "$head" | wc -c)" "${#body}" <<'PY'
import json, sys
w, sst, rows, head, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
b = json.load(open(f"{w}/bus.json"))
b.update(row_bytes_per_event=sst / max(rows, 1), http_bytes_per_event=head + body, sstable_bytes=sst, rows=rows)
json.dump(b, open(f"{w}/bytes.json", "w"))
print(b)
PY
fi

python3 scripts/bench/cluster_report.py "$W" "$RUNS" "$OFFER" > "$W/table.md"
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" cluster
python3 scripts/bench/sizing.py "$W" .scratch/bench/roles/roles.json .scratch/bench/nats/nats.json > "$W/sizing.md"
cat "$W/sizing.md"
python3 - "$W/sizing.md" <<'PY'
import re, sys
doc = "docs/operations.md"
text = open(doc).read()
text = re.sub(r"<!-- SIZING -->.*", lambda m: "<!-- SIZING -->\n" + open(sys.argv[1]).read(), text, flags=re.S)
open(doc, "w").write(text)
PY
