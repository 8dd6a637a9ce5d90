#!/usr/bin/env bash
# `spoor person` latency for a user with 10,000 events (issue 15 §5), against
# a plain CQL read of the same rows in the same run (the baseline):
# person/bench_test.go seeds one keyspace through the real Cassandra sink and
# runs four benchmarks, RUNS times, alternated by go test -count. Medians into
# docs/benchmarks.md (BENCH:person). Needs the test Cassandra
# (scripts/cassandra.sh start); run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-5}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
scripts/cassandra.sh start >/dev/null
go test -run '^$' -bench 'Person|RawCQL' -benchtime 20x -count "$RUNS" ./person/ | tee "$W/bench.txt"
python3 - "$W/bench.txt" "$RUNS" > "$W/table.md" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"Benchmark(\w+)-\d+\s+\d+\s+(\d+) ns/op\s+(\d+) B/op\s+(\d+) allocs/op", line)
    if m:
        runs.setdefault(m.group(1), []).append(int(m.group(2)) / 1e6)
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"A user with 10,000 events (5,000 in one browser after an identify, 5,000 server-side), one Cassandra node on "
      f"this machine, medians of {sys.argv[2]} runs of 20 each (`go test -bench 'Person|RawCQL' ./person/`). The baseline "
      "reads the same rows with plain CQL in the same run (the user's partition and the browser's `visitor_events` slices, its days in one IN): "
      "no resolution, no merge, no dedup, each row scanned into a map as a generic client does. spoor person also completes each browser event "
      "from its `events_by_day` row (the visitor rows hold keys only, decision 0007), 16 reads at a time.\n")
print("| read | spoor person | plain CQL, same partitions | ratio |")
print("|---|---|---|---|")
print(f"| first page: resolve, traits, newest 50 | {med['Person']:.1f} ms | {med['RawCQL']:.1f} ms (50 rows of each) | "
      f"{med['Person'] / med['RawCQL']:.2f}× |")
print(f"| all 10,000 events | {med['PersonAll']:.0f} ms | {med['RawCQLAll']:.0f} ms (15,000 rows: the browser's events are in both) | "
      f"{med['PersonAll'] / med['RawCQLAll']:.2f}× |")
print("\nRuns (ms): " + "; ".join(f"{k} " + ", ".join(f"{x:.1f}" for x in v) for k, v in runs.items()))
PY
cat "$W/table.md"
grep -q '<!-- BENCH:person -->' docs/benchmarks.md || printf '\n## `spoor person` (`bash scripts/bench/person.sh`)\n\n<!-- BENCH:person -->\n<!-- /BENCH:person -->\n' >> docs/benchmarks.md
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" person
