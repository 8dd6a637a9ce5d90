#!/usr/bin/env bash
# How long the PySpark job (analytics/job.py) takes over demo data in Cassandra on this machine, and how
# that grows from 100k to 1M to 5M events: `spoor demo` sends each size once through `spoor run` into the
# local Cassandra (scripts/cassandra.sh; one app per size), then the job runs RUNS times per size, all
# sizes alternated. Medians into docs/benchmarks.md.
#   bash scripts/bench/analytics.sh          (RUNS=3 SIZES="100000 1000000 5000000"; the 5M ingest takes ~30 min)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=bench/analytics
RUNS=${RUNS:-3} SIZES=${SIZES:-"100000 1000000 5000000"} CPORT=${SPOOR_CASSANDRA_PORT:-19042}
KS=spoor_bench_analytics
W=.scratch/bench/analytics; mkdir -p "$W"
bash scripts/analytics-test.sh fetch
bash scripts/cassandra.sh start
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/cql" ./scripts/cql
count() { # rows of app $1 on receive days $2...
  local app=$1 n=0 d b c; shift
  for d in "$@"; do for b in $(seq 0 15); do
    c=$("$W/cql" -hosts "127.0.0.1:$CPORT" "SELECT count(*) AS n FROM $KS.events_by_day WHERE app = '$app' AND day = '$d' AND bucket = $b" |
      python3 -c 'import json,sys;print(json.loads(sys.stdin.read())["n"])' 2>/dev/null) || c=0 # a count that timed out counts nothing this round
    n=$((n + ${c:-0}))
  done; done
  echo $n
}
if [ "${KEEP_DATA:-}" != 1 ]; then
  "$W/cql" -hosts "127.0.0.1:$CPORT" "DROP KEYSPACE IF EXISTS $KS" >/dev/null
  rm -rf "$W/run"
  SPOOR_DATA_DIR="$W/run" SPOOR_HTTP_ADDR=127.0.0.1:18401 SPOOR_LOG_LEVEL=warn SPOOR_NATS_MAX_BYTES=21474836480 \
    SPOOR_CASSANDRA_HOSTS="127.0.0.1:$CPORT" SPOOR_CASSANDRA_KEYSPACE=$KS "$W/spoor" -config config.json run 2> "$W/run.log" & PID=$!
  trap 'kill $PID 2>/dev/null || true' EXIT
  for _ in $(seq 240); do curl -fs http://127.0.0.1:18401/readyz >/dev/null && break; sleep 0.5; done
  for size in $SIZES; do
    visitors=$((size / 28))
    say "ingesting ~$size events ($visitors visitors)"
    t0=$SECONDS
    "$W/spoor" demo -url http://127.0.0.1:18401 -app "shop_$size" -seed 1 -visitors "$visitors" -truth "$W/truth_$size.json"
    events=$(python3 -c "import json;print(json.load(open('$W/truth_$size.json'))['events'])")
    days=$(python3 -c "import json;print(' '.join(json.load(open('$W/truth_$size.json'))['sent_on']))")
    last=-1 still=0 # give up when the row count stops growing for 5 minutes
    while n=$(count "shop_$size" $days); [ "$n" -lt "$events" ]; do
      if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0 last=$n; fi
      [ $still -lt 30 ] || { say "shop_$size: $n rows of $events events, no progress for 5 minutes"; exit 1; }
      sleep 10
    done
    say "shop_$size: $events events stored in $((SECONDS - t0)) s"
  done
  kill $PID; wait $PID 2>/dev/null || true; trap - EXIT
fi
export SPARK_LOCAL_IP=127.0.0.1
for run in $(seq "$RUNS"); do
  for size in $SIZES; do
    days=$(python3 -c "import json;print(' '.join(json.load(open('$W/truth_$size.json'))['sent_on']))")
    .cache/analytics/bin/python analytics/job.py --app "shop_$size" --received $days --port "$CPORT" --keyspace $KS \
      --jars .cache/scc/jars --out "$W/out_${size}_$run" --no-charts > "$W/job_${size}_$run.log" 2>&1
    .cache/analytics/bin/python analytics/check.py "$W/out_${size}_$run/answers.json" "$W/truth_$size.json" >> "$W/job_${size}_$run.log"
    say "run $run, $size: $(python3 -c "import json;print(json.load(open('$W/out_${size}_$run/answers.json'))['cost'])")"
  done
done
python3 - "$W" "$RUNS" "$SIZES" > "$W/table.md" <<'PY'
import json, sys, statistics, datetime
w, runs, sizes = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
med = statistics.median
print(f"Measured {datetime.date.today()} on 2 cores: Cassandra 5.0.8 single node (1 GiB heap) and Spark local[2] on the same machine; "
      f"demo data sent through `spoor run`; the job (`analytics/job.py --no-charts`) run {runs} times per size, sizes alternated; "
      "medians. Every run's answers matched the demo's truth (analytics/check.py).\n")
print("| events | partitions read | rows scanned | whole job (cold JVM) | of which: Spark session | read into Spark's cache | every answer | seconds per million events (read + answers) | per run (whole job) |")
print("|---|---|---|---|---|---|---|---|---|")
for s in sizes:
    c = [json.load(open(f"{w}/out_{s}_{r}/answers.json"))["cost"] for r in range(1, runs + 1)]
    rows = c[0]["rows_scanned"]
    work = med(x["read_seconds"] + x["answers_seconds"] for x in c)
    print(f"| {rows:,} | {c[0]['partitions_read']} | {rows:,} | **{med(x['total_seconds'] for x in c):.1f} s** | {med(x['session_seconds'] for x in c):.1f} s | "
          f"{med(x['read_seconds'] for x in c):.1f} s | {med(x['answers_seconds'] for x in c):.1f} s | {work / rows * 1e6:.0f} s | "
          + ", ".join(f"{x['total_seconds']:.1f}" for x in c) + " s |")
PY
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" analytics
