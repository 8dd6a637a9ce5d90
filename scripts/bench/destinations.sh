#!/usr/bin/env bash
# Destinations, measured (issue 25), into docs/benchmarks.md (BENCH:destinations):
#
# 1. The collector's throughput with one destination dead for the whole run (a webhook whose receiver
#    answers 503) against the same `spoor run` with no destination: wrk -t2 -c64 on native batches of
#    20, RUNS times alternated (ABBA), medians and their ratio.
# 2. Per destination (webhook into a local receiver, Kafka into a real broker, GA4 into a local
#    receiver, Parquet files), events delivered per second of CPU of the process that delivers them:
#    a split deployment (nats-server, `spoor collector`, a `spoor sink` for the store, and a `spoor sink`
#    with sink.run=destinations for the destination alone), EVENTS events sent, the destination
#    process's CPU time (utime+stime) read from /proc when its last event is delivered.
# 3. The Parquet files' size against the file store's NDJSON.gz for the same events.
#   bash scripts/bench/destinations.sh        (RUNS=6 DURATION=15s EVENTS=1000000)
#   PART=dead bash scripts/bench/destinations.sh   (part 1 again, the per-destination figures kept)
#   PART=dests bash scripts/bench/destinations.sh  (part 2 again, part 1's figures kept)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/destinations
RUNS=${RUNS:-6} DURATION=${DURATION:-15s} EVENTS=${EVENTS:-1000000} PART=${PART:-all}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
W=.scratch/bench/destinations; rm -rf "$W/run" "$W/split" "$W/parquet"; mkdir -p "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/receiver" ./scripts/bench/receiver
[ -x .cache/bin/nats-server ] || go build -o .cache/bin/nats-server github.com/nats-io/nats-server/v2
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all' EXIT
ENV=(SPOOR_LOG_LEVEL=warn)

# 1. A dead destination costs the collector nothing it waits on.
if [ "$PART" != dests ]; then
rm -f "$W/out"/dead.*
"$W/receiver" -addr 127.0.0.1:18491 -down > "$W/dead.log" 2>&1 & DEAD=$!
DEST_DEAD='[{"name":"dead","type":"webhook","url":"http://127.0.0.1:18491/in","filter":{"exclude_bots":false}}]'
for run in $(seq "$RUNS"); do
  order="none dead"; [ $((run % 2)) = 0 ] && order="dead none" # ABBA: drift cancels
  for t in $order; do
    rm -rf "$W/run"
    dests='[]'; [ $t = dead ] && dests=$DEST_DEAD
    env "${ENV[@]}" SPOOR_DATA_DIR="$W/run" SPOOR_HTTP_ADDR=127.0.0.1:18480 SPOOR_DESTINATIONS="$dests" \
      "$W/spoor" -config config.json run 2> "$W/run.$t.log" & PIDS+=($!)
    wait_port 127.0.0.1 18480 60
    wrk -t2 -c64 -d"$DURATION" -s scripts/bench/post_batch20_now.lua http://127.0.0.1:18480/tr/v1/ > "$W/out/dead.$t.$run.txt"
    say "run $run, destination $t: $(grep Requests/sec "$W/out/dead.$t.$run.txt")"
    stop_all
  done
done
kill $DEAD 2>/dev/null || true
rm -rf "$W/run"
fi

# 2. Each destination in a process of its own (PART=dead skips it and keeps the last run's figures).
if [ "$PART" != dead ]; then
rm -f "$W/out/per-destination.txt" "$W/out/sizes.txt"
bash scripts/kafka.sh start
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; } # utime+stime in seconds (USER_HZ 100)
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m) == 1 {s += $NF} END {printf "%d", s}'; }
declare -A SETTINGS=(
  [webhook]='"type":"webhook","url":"http://127.0.0.1:18492/in"'
  [kafka]='"type":"kafka","brokers":["127.0.0.1:19092"],"topic":"spoor-bench-'$$'"'
  [ga4]='"type":"ga4","measurement_id":"G-BENCH1234","api_secret":"bench","endpoint":"http://127.0.0.1:18493/mp/collect"'
  [parquet]='"type":"parquet","dir":"'$PWD/$W'/parquet","roll_interval":"10s"'
)
"$W/receiver" -addr 127.0.0.1:18492 -mode webhook > "$W/webhook-receiver.log" 2>&1 & RCV1=$!
"$W/receiver" -addr 127.0.0.1:18493 -mode ga4 > "$W/ga4-receiver.log" 2>&1 & RCV2=$!
for d in webhook kafka ga4 parquet; do
  rm -rf "$W/split" "$W/parquet"; mkdir -p "$W/split"
  .cache/bin/nats-server -js -sd "$W/split/nats" -a 127.0.0.1 -p 18498 > "$W/split/nats.log" 2>&1 & PIDS+=($!)
  wait_port 127.0.0.1 18498 30
  common=(SPOOR_NATS_URL=nats://127.0.0.1:18498 SPOOR_LOG_LEVEL=warn)
  dest="[{\"name\":\"bench\",${SETTINGS[$d]},\"filter\":{\"exclude_bots\":false}}]"
  env "${common[@]}" SPOOR_DATA_DIR="$W/split/c" SPOOR_HTTP_ADDR=127.0.0.1:18480 "$W/spoor" -config config.json collector 2> "$W/split/c.log" & PIDS+=($!)
  env "${common[@]}" SPOOR_DATA_DIR="$W/split/s" SPOOR_HTTP_ADDR=127.0.0.1:18481 SPOOR_SINK_RUN=store \
    "$W/spoor" -config config.json sink 2> "$W/split/s.log" & PIDS+=($!)
  env "${common[@]}" SPOOR_DATA_DIR="$W/split/s" SPOOR_HTTP_ADDR=127.0.0.1:18482 SPOOR_SINK_RUN=destinations SPOOR_DESTINATIONS="$dest" \
    "$W/spoor" -config config.json sink 2> "$W/split/d.log" & DPID=$!; PIDS+=($DPID)
  wait_port 127.0.0.1 18480 60; wait_port 127.0.0.1 18482 60
  cpu0=$(cpu $DPID) t0=$(date +%s.%N)
  # EVENTS events in batches of 20, as fast as the collector takes them.
  python3 - "$EVENTS" <<'PY'
import json, sys, urllib.request, concurrent.futures as cf
n = int(sys.argv[1]) // 20
body = json.dumps([{"app": "native", "ename": "filter_results", "etyp": "filter", "page": i,
                    "vid": f"016f2740-6e8c-11ea-9f0b-5d70c66851{i:02d}", "url": "https://shop.example/rooms",
                    "tz": "Europe/Warsaw", "device": "Handset", "os": "iOS 13.4"} for i in range(20)]).encode()
def send(_):
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:18480/tr/v1/", data=body, method="POST",
                                                  headers={"Content-Type": "text/plain"}), timeout=30).read()
with cf.ThreadPoolExecutor(16) as ex:
    list(ex.map(send, range(n)))
PY
  want=$(( EVENTS / 20 * 20 ))
  for _ in $(seq 1200); do
    got=$(metric 18482 spoor_destination_events_delivered_total)
    [ "${got:-0}" -ge "$want" ] && break
    sleep 0.5
  done
  cpu1=$(cpu $DPID) t1=$(date +%s.%N)
  echo "$d $want $(metric 18482 spoor_destination_events_delivered_total) $(python3 -c "print($cpu1 - $cpu0)") $(python3 -c "print($t1 - $t0)")" >> "$W/out/per-destination.txt"
  say "$d: $(tail -1 "$W/out/per-destination.txt") (events, delivered, cpu s, wall s)"
  if [ $d = parquet ]; then
    stop_all # the destination rolls its open hours as it stops
    sleep 1
    echo "$(du -sb "$W/parquet" | cut -f1) $(du -sb "$W/split/s/events" | cut -f1)" > "$W/out/sizes.txt"
  fi
  stop_all
done
kill $RCV1 $RCV2 2>/dev/null || true
bash scripts/kafka.sh stop
fi

python3 - "$W/out" "$RUNS" "$DURATION" "$EVENTS" > "$W/table.md" <<'PY'
import re, statistics, sys, datetime
out, runs, dur, events = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def rps(p):
    return float(re.search(r"Requests/sec:\s+([\d.]+)", open(p).read()).group(1))
none = [rps(f"{out}/dead.none.{r}.txt") for r in range(1, runs + 1)]
dead = [rps(f"{out}/dead.dead.{r}.txt") for r in range(1, runs + 1)]
mn, md = statistics.median(none), statistics.median(dead)
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session.\n")
print(f"**A dead destination costs the collector nothing it waits on.** `spoor run`, wrk -t2 -c64 -d{dur}, native batches of 20 "
      f"events of 20 visitors, {runs} runs alternated (ABBA), medians: no destination {mn:,.0f} req/s ({mn * 20:,.0f} events/s); "
      f"a webhook destination whose receiver answers 503 for the whole run {md:,.0f} req/s ({md * 20:,.0f} events/s): "
      f"**{md / mn:.2f}×** (runs: {', '.join(f'{x:,.0f}' for x in none)}; {', '.join(f'{x:,.0f}' for x in dead)}).\n")
print(f"**Per destination**, the process that delivers alone (`spoor sink` with `sink.run: destinations`), next to a collector, "
      f"a store sink and a nats-server on the same 2 cores; {events:,} events sent in batches of 20, the destination process's CPU "
      "time (utime + stime) until its last event was delivered:\n")
print("| destination | into | events delivered | CPU s | events/s per core | wall s |")
print("|---|---|---|---|---|---|")
into = {"webhook": "a local HTTP receiver (batches of 100)", "kafka": "a real Kafka 4.4 broker (KRaft), acks=all, idempotent",
        "ga4": "a local Measurement Protocol receiver (a request per client, up to 25 events)", "parquet": "Parquet files (zstd), 10 s rolls"}
for line in open(f"{out}/per-destination.txt"):
    d, want, got, cpu, wall = line.split()
    print(f"| {d} | {into[d]} | {int(got):,} of {int(want):,} | {float(cpu):.1f} | **{int(got) / float(cpu):,.0f}** | {float(wall):.0f} |")
pq, nd = map(int, open(f"{out}/sizes.txt").read().split())
print(f"\nThe same {events:,} events as Parquet files: {pq / 1e6:.1f} MB, against {nd / 1e6:.1f} MB in the file store's NDJSON.gz "
      f"(**{pq / nd:.2f}×**).")
PY
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" destinations
