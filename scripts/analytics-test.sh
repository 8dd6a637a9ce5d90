#!/usr/bin/env bash
# The analytics proof (make analytics, part of make test): `spoor demo` at CI size sent through the
# real collector into two `spoor run`s, one writing to the real Cassandra (scripts/cassandra.sh,
# keyspace spoor_demo), one to the file store; then the PySpark job over Cassandra (local mode,
# partition-key pushdown), the DuckDB answers over the files, and the notebook executed headless;
# the file store's pipeline also sends every event to a Parquet destination, whose files DuckDB and
# Spark answer from too; every answer checked against the generator's truth (analytics/check.py).
#
#   bash scripts/analytics-test.sh          (VISITORS=700 ≈ 20k events)
#   bash scripts/analytics-test.sh fetch    (only install the Python packages and the connector jars)
#
# Installs pyspark and the rest from PyPI into .cache/analytics (analytics/requirements.txt) and the
# Spark Cassandra Connector from Maven Central into .cache/scc (analytics/pom.xml).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=analytics
VENV=.cache/analytics JARS=.cache/scc/jars
W=.scratch/analytics
VISITORS=${VISITORS:-700} SEED=${SEED:-7}
CPORT=${SPOOR_CASSANDRA_PORT:-19042}

fetch() {
  if [ ! -f "$VENV/.installed" ] || ! cmp -s analytics/requirements.txt "$VENV/.installed"; then
    say "installing analytics/requirements.txt into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r analytics/requirements.txt
    cp analytics/requirements.txt "$VENV/.installed"
  fi
  if [ ! -f "$JARS/.complete" ]; then
    say "resolving spark-cassandra-connector_2.12 3.5.1 from Maven Central"
    rm -rf "$JARS"; mkdir -p "$JARS"
    mvn -B -q -Dstyle.color=never -f analytics/pom.xml dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$ROOT/$JARS"
    touch "$JARS/.complete"
  fi
}
fetch
[ "${1:-}" = fetch ] && exit 0

(cd analytics && "../$VENV/bin/python" -m pytest -q -p no:cacheprovider test_stats.py test_check.py)
bash scripts/cassandra.sh start
rm -rf "$W"; mkdir -p "$W"
go build -o "$W/spoor" ./cmd/spoor
go build -o "$W/cql" ./scripts/cql
"$W/cql" -hosts "127.0.0.1:$CPORT" "DROP KEYSPACE IF EXISTS spoor_demo" >/dev/null
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
# One pipeline into Cassandra, one into the file store (files published every second).
# The canary runs in both, into the same app: its marked events must change no answer.
CANARY=(SPOOR_CANARY_ENABLED=true SPOOR_CANARY_APP=shop SPOOR_CANARY_INTERVAL=1s)
env "${CANARY[@]}" SPOOR_DATA_DIR="$W/run-cassandra" SPOOR_HTTP_ADDR=127.0.0.1:18301 SPOOR_LOG_LEVEL=warn \
  SPOOR_CASSANDRA_HOSTS="127.0.0.1:$CPORT" SPOOR_CASSANDRA_KEYSPACE=spoor_demo \
  "$W/spoor" -config config.json run 2> "$W/run-cassandra.log" & PIDS+=($!)
# The file store's pipeline also sends every event (bots too: the answers leave them out themselves) to
# Parquet files, rolled every second.
PARQUET_DEST='[{"name":"lake","type":"parquet","dir":"'$ROOT/$W'/parquet","roll_interval":"1s","filter":{"exclude_bots":false}}]'
env "${CANARY[@]}" SPOOR_DATA_DIR="$W/run-files" SPOOR_HTTP_ADDR=127.0.0.1:18302 SPOOR_LOG_LEVEL=warn SPOOR_FILE_ROLL_INTERVAL=1s \
  SPOOR_DESTINATIONS="$PARQUET_DEST" "$W/spoor" -config config.json run 2> "$W/run-files.log" & PIDS+=($!)
for port in 18301 18302; do
  for _ in $(seq 240); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.5; done
done

say "spoor demo: $VISITORS visitors, seed $SEED, into both"
"$W/spoor" demo -url http://127.0.0.1:18301 -seed "$SEED" -visitors "$VISITORS" -truth "$W/truth.json"
"$W/spoor" demo -url http://127.0.0.1:18302 -seed "$SEED" -visitors "$VISITORS" -truth "$W/truth-files.json"
python3 - "$W/truth.json" "$W/truth-files.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("sent_on"), b.pop("sent_on")
assert a == b, "the same seed must generate the same truth"
PY
events=$(python3 -c "import json;print(json.load(open('$W/truth.json'))['events'])")
received=$(python3 -c "import json;print(' '.join(json.load(open('$W/truth.json'))['sent_on']))")

say "waiting until both stores hold the $events events"
# The demo's events, not the canary's.
count_cassandra() {
  local n=0 d b q
  for d in $received; do for b in $(seq 0 15); do
    q="FROM spoor_demo.events_by_day WHERE app = 'shop' AND day = '$d' AND bucket = $b"
    n=$((n + $("$W/cql" -hosts "127.0.0.1:$CPORT" "SELECT count(*) AS n $q" | python3 -c 'import json,sys;print(json.loads(sys.stdin.read())["n"])') \
          - $("$W/cql" -hosts "127.0.0.1:$CPORT" "SELECT count(*) AS n $q AND canary = true ALLOW FILTERING" | python3 -c 'import json,sys;print(json.loads(sys.stdin.read())["n"])')))
  done; done
  echo $n
}
count_files() { find "$W/run-files/events" -name 'part-*.ndjson.gz' -exec zcat {} + 2>/dev/null | grep -vc '"canary":true' || true; }
count_parquet() {
  "$VENV/bin/python" -c "
import duckdb, glob, sys
print(duckdb.sql(\"SELECT count(*) FROM read_parquet('$W/parquet/**/*.parquet')\").fetchall()[0][0] if glob.glob('$W/parquet/**/*.parquet', recursive=True) else 0)"
}
for _ in $(seq 180); do
  c=$(count_cassandra); f=$(count_files); p=$(count_parquet)
  [ "$c" -ge "$events" ] && [ "$f" -ge "$events" ] && [ "$p" -ge "$events" ] && break
  sleep 1
done
say "Cassandra holds $c, the files $f, the Parquet files $p"

mkdir -p "$W/jupyter/runtime" "$W/jupyter/data" "$W/jupyter/config" "$W/jupyter/ipython"
export JUPYTER_RUNTIME_DIR="$ROOT/$W/jupyter/runtime" JUPYTER_DATA_DIR="$ROOT/$W/jupyter/data" \
  JUPYTER_CONFIG_DIR="$ROOT/$W/jupyter/config" IPYTHONDIR="$ROOT/$W/jupyter/ipython" SPARK_LOCAL_IP=127.0.0.1
say "PySpark over Cassandra"
"$VENV/bin/python" analytics/job.py --app shop --received $received --port "$CPORT" --keyspace spoor_demo --jars "$JARS" --out "$W/spark"
"$VENV/bin/python" analytics/check.py "$W/spark/answers.json" "$W/truth.json"
grep -q 'Cassandra Filters: \[\["app" = ?' "$W/spark/plan.txt" || { say "the read was not pushed down:"; cat "$W/spark/plan.txt"; exit 1; }
say "DuckDB over the file store"
"$VENV/bin/python" analytics/duckdb_answers.py --dir "$W/run-files/events" --app shop --out "$W/duckdb"
"$VENV/bin/python" analytics/check.py "$W/duckdb/answers.json" "$W/truth-files.json"
say "DuckDB and PySpark over the Parquet destination's files"
"$VENV/bin/python" analytics/duckdb_answers.py --format parquet --dir "$W/parquet" --app shop --out "$W/duckdb-parquet"
"$VENV/bin/python" analytics/check.py "$W/duckdb-parquet/answers.json" "$W/truth-files.json"
"$VENV/bin/python" analytics/job.py --parquet "$W/parquet" --app shop --received $received --out "$W/spark-parquet" --no-charts
"$VENV/bin/python" analytics/check.py "$W/spark-parquet/answers.json" "$W/truth-files.json"
say "the notebook, headless"
SPOOR_APP=shop SPOOR_RECEIVED="$received" SPOOR_CASSANDRA_PORT="$CPORT" SPOOR_KEYSPACE=spoor_demo SPOOR_SCC_JARS="$ROOT/$JARS" \
  "$VENV/bin/python" - <<'PY'
import nbformat
from nbclient import NotebookClient
nb = nbformat.read("analytics/notebook.ipynb", as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "analytics"}}).execute()
nbformat.write(nb, ".scratch/analytics/notebook.out.ipynb")
print("notebook: every cell ran")
PY
if [ "${DOCS:-}" = 1 ]; then python3 analytics/report.py "$W"; say "docs/analytics.md and docs/img/analytics updated"; fi
