#!/usr/bin/env bash
# Tracking plans, measured (issue 26), into docs/benchmarks.md (BENCH:plans): the collector's
# throughput with every event checked against a plan of 50 event schemas (draft 2020-12, audit mode,
# plus a common schema) against the same `spoor run` with no plan: wrk -t2 -c64 on native batches of
# 20 events whose names go round the 50, RUNS times alternated (ABBA), medians and their ratio.
#   bash scripts/bench/plans.sh        (RUNS=6 DURATION=15s)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/plans
RUNS=${RUNS:-6} DURATION=${DURATION:-15s}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
W=.scratch/bench/plans; rm -rf "$W"; mkdir -p "$W/out" "$W/plans" "$W/none"
go build -o "$W/spoor" ./cmd/spoor
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap 'stop_all' EXIT

# The plan: 50 events, each with a schema of its properties, and a common schema.
python3 - "$W/plans/shop.json" <<'PY'
import json, sys
props = {"type": "object", "required": ["id", "price", "currency"], "properties": {
    "id": {"type": "string", "minLength": 1}, "price": {"type": "number", "minimum": 0},
    "currency": {"enum": ["USD", "EUR", "GBP", "PLN"]}, "qty": {"type": "integer", "minimum": 1},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10}, "color": {"type": "string"}}}
plan = {"version": "bench", "mode": "audit", "unplanned": "block",
        "common": {"type": "object", "required": ["visitor_id", "url"]},
        "events": {f"Event {n:02d}": {"properties": props} for n in range(1, 51)}}
json.dump(plan, open(sys.argv[1], "w"), indent=1)
PY
"$W/spoor" plan check "$W/plans/shop.json" | head -1

for run in $(seq "$RUNS"); do
  order="none plan"; [ $((run % 2)) = 0 ] && order="plan none" # ABBA: drift cancels
  for t in $order; do
    rm -rf "$W/run"
    dir="$W/none"; [ $t = plan ] && dir="$W/plans"
    SPOOR_LOG_LEVEL=warn SPOOR_DATA_DIR="$W/run" SPOOR_HTTP_ADDR=127.0.0.1:18480 SPOOR_PLANS_DIR="$PWD/$dir" \
      "$W/spoor" -config config.json run 2> "$W/run.$t.log" & PIDS+=($!)
    wait_port 127.0.0.1 18480 60
    wrk -t2 -c64 -d"$DURATION" -s scripts/bench/plans_batch20.lua http://127.0.0.1:18480/tr/v1/ > "$W/out/$t.$run.txt"
    checked=$(curl -s http://127.0.0.1:18480/metrics | awk '/^spoor_plan_events_total/ {s += $NF} END {printf "%d", s}')
    echo "$checked" > "$W/out/$t.$run.checked"
    say "run $run, $t: $(grep Requests/sec "$W/out/$t.$run.txt"), events checked $checked"
    stop_all
  done
done
rm -rf "$W/run"

python3 - "$W/out" "$RUNS" "$DURATION" > "$W/table.md" <<'PY'
import re, statistics, sys, datetime
out, runs, dur = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rps(p):
    t = open(p).read()
    if re.search(r"Non-2xx or 3xx responses", t):
        raise SystemExit(f"{p}: some requests were refused")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
none = [rps(f"{out}/none.{r}.txt") for r in range(1, runs + 1)]
plan = [rps(f"{out}/plan.{r}.txt") for r in range(1, runs + 1)]
checked = [int(open(f"{out}/plan.{r}.checked").read() or 0) for r in range(1, runs + 1)]
if min(checked) == 0:
    raise SystemExit("a run with the plan checked no event")
mn, mp = statistics.median(none), statistics.median(plan)
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session.\n")
print(f"**Validated ingest.** `spoor run`, wrk -t2 -c64 -d{dur}, native batches of 20 events whose names go round the 50 "
      f"events of a plan (each a draft 2020-12 schema of six properties: required, types, an enum, a minimum, an array; "
      f"a common schema; audit mode, every event valid), {runs} runs alternated (ABBA), medians: no plan {mn:,.0f} req/s "
      f"({mn * 20:,.0f} events/s); every event checked {mp:,.0f} req/s ({mp * 20:,.0f} events/s): **{mp / mn:.2f}×** "
      f"(runs: {', '.join(f'{x:,.0f}' for x in none)}; {', '.join(f'{x:,.0f}' for x in plan)}). "
      f"The no-plan runs alone spread {min(none) / mn:.2f}–{max(none) / mn:.2f}× of their median: the machine's floor.\n")
PY
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" plans
