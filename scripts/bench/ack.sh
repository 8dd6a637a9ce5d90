#!/usr/bin/env bash
# What the durable ack costs, per collector.ack, in one session: `spoor collector` (embedded JetStream,
# no sink in the process) with collector.ack: replicated, the same with collector.ack: local (the spool's
# group commit, the forwarder behind it), and the same binary built with -tags bench_nodurable (answers
# and drops: the ceiling without an ack). wrk runs each scenario against the three in turn, RUNS times;
# the table gives medians, each as a ratio of the no-ack ceiling, and the ack's cost (1 - that ratio).
# It also reports, per target, the spoor process's CPU seconds per 1,000 requests (/proc/PID/stat).
#   bash scripts/bench/ack.sh            (RUNS=5 DURATION=8s CONNS=64; ~9 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/ack
RUNS=${RUNS:-5} DURATION=${DURATION:-8s} CONNS=${CONNS:-64} SCENARIOS=${SCENARIOS:-get_tuplet post_single post_single_eid post_batch20}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
W=.scratch/bench/ack; rm -rf "$W"; mkdir -p "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -tags bench_nodurable -o "$W/spoor-nodurable" ./cmd/spoor
start() { # NAME PORT BINARY [ENV...]
  local name=$1 port=$2 bin=$3; shift 3
  env SPOOR_DATA_DIR="$W/data-$name" SPOOR_HTTP_ADDR=127.0.0.1:$port SPOOR_LOG_LEVEL=warn SPOOR_NATS_MAX_BYTES=34359738368 "$@" \
    "$W/$bin" -config config.json collector 2> "$W/$name.log" & echo $! > "$W/$name.pid"
}
start replicated 18480 spoor SPOOR_COLLECTOR_ACK=replicated
start local 18481 spoor SPOOR_COLLECTOR_ACK=local
start nodurable 18482 spoor-nodurable
trap 'for n in replicated local nodurable; do kill "$(cat "$W/$n.pid")" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
for port in 18480 18481 18482; do
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
done
cpu() { awk '{print $14+$15}' "/proc/$(cat "$W/$1.pid")/stat"; } # utime+stime, clock ticks
TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
: > "$W/results.tsv"
for run in $(seq "$RUNS"); do
  for scenario in $SCENARIOS; do
    path=/tr/v1/; [ "$scenario" = get_tuplet ] && path=$TUPLET
    for target in replicated local nodurable; do
      case $target in replicated) port=18480 ;; local) port=18481 ;; nodurable) port=18482 ;; esac
      c0=$(cpu "$target")
      wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "scripts/bench/$scenario.lua" "http://127.0.0.1:$port$path" > "$W/out/$scenario.$target.$run.txt"
      c1=$(cpu "$target")
      rps=$(awk '/Requests\/sec/ {print $2}' "$W/out/$scenario.$target.$run.txt")
      non2xx=$(awk '/Non-2xx/ {print $5}' "$W/out/$scenario.$target.$run.txt")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$target" "$rps" "$((c1 - c0))" "${non2xx:-0}" >> "$W/results.tsv"
      say "run $run $scenario $target: $rps req/s"
    done
  done
done
curl -s http://127.0.0.1:18480/metrics | grep -E '^spoor_collector_events_(acked|published)_total' > "$W/out/metrics.replicated.txt" || true
curl -s http://127.0.0.1:18481/metrics | grep -E '^spoor_collector_events_(acked|published)_total' > "$W/out/metrics.local.txt" || true
python3 - "$W/results.tsv" "$RUNS" "$CONNS" "$DURATION" "$(getconf CLK_TCK)" <<'PY' | tee "$W/table.md"
import csv, statistics, sys, datetime
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
runs, conns, dur, tck = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
secs = float(dur.rstrip("s"))
per = {"get_tuplet": 1, "post_single": 1, "post_single_eid": 1, "post_batch20": 20}
scen = [s for s in per if any(r[1] == s for r in rows)]
def med(s, t, f):
    return statistics.median(f(r) for r in rows if r[1] == s and r[2] == t)
rps = lambda r: float(r[3])
cpu = lambda r: float(r[4]) / tck / (float(r[3]) * secs) * 1e6  # CPU µs per request
print(f"Measured {datetime.date.today()}: `spoor collector` (embedded JetStream, no sink in the process) with each `collector.ack`, "
      f"and the same binary built with `-tags bench_nodurable` (no ack: the ceiling), alternated, wrk -t2 -c{conns} -d{dur}, "
      f"medians of {runs} runs per cell (`bash scripts/bench/ack.sh`). The ack's cost is 1 − (req/s with it ÷ req/s without).\n")
print("| scenario | no ack, req/s (CPU µs/req) | `replicated` req/s (÷ no ack) | `replicated` ack cost | `local` req/s (÷ no ack) | `local` ack cost | `local` ÷ `replicated` | non-2xx (replicated / local) |")
print("|---|---|---|---|---|---|---|---|")
for s in scen:
    z, r, l = med(s, "nodurable", rps), med(s, "replicated", rps), med(s, "local", rps)
    zc, rc, lc = med(s, "nodurable", cpu), med(s, "replicated", cpu), med(s, "local", cpu)
    bad = lambda t: sum(int(x[5] or 0) for x in rows if x[1] == s and x[2] == t)
    print(f"| {s} | {z:,.0f} ({zc:.1f}) | {r:,.0f} ({r/z:.2f}×; {rc:.1f} µs) | {1-r/z:.0%} | {l:,.0f} ({l/z:.2f}×; {lc:.1f} µs) | **{1-l/z:.0%}** | {l/r:.2f}× | {bad('replicated')} / {bad('local')} |")
PY
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" ack
