#!/usr/bin/env bash
# Measures the Cassandra sink against a raw gocql loop writing the same rows,
# in one session against the local Cassandra, and records the medians in
# docs/benchmarks.md.   bash scripts/bench/cassandra.sh   (RUNS=3 EVENTS=40000)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3} EVENTS=${EVENTS:-40000}
bash scripts/cassandra.sh start
mkdir -p .scratch/bench
go run ./scripts/bench/sinkbench -hosts "127.0.0.1:${SPOOR_CASSANDRA_PORT:-19042}" -events "$EVENTS" -runs "$RUNS" > .scratch/bench/cassandra.md
cat .scratch/bench/cassandra.md
python3 - <<'PY'
import re
doc = "docs/benchmarks.md"
text, tab = open(doc).read(), open(".scratch/bench/cassandra.md").read()
text = re.sub(r"(<!-- BENCH:cassandra -->\n).*?(<!-- /BENCH:cassandra -->)", lambda m: m.group(1) + tab + m.group(2), text, flags=re.S)
open(doc, "w").write(text)
PY
