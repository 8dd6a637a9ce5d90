#!/usr/bin/env bash
# The Segment-compatible API's throughput: POST /v1/batch with 100 track messages (as the SDKs send),
# against nginx answering 204 to the same POST and against spoor's own /tr/v1/ batch of the same 100 events
# (native JSON, each with its own event id); and POST /v1/track of one of those messages against a single
# native POST of the same event. One session; each spoor target on a fresh `spoor run` (empty data
# directory); wrk -t2 -c32, RUNS times each, alternated, the order reversed every other run; medians (and
# the median of the per-run ratios) into docs/benchmarks.md (BENCH:segment).
#   bash scripts/bench/segment.sh          (RUNS=3 DURATION=10s CONNS=32)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/segment
RUNS=${RUNS:-3} DURATION=${DURATION:-10s} CONNS=${CONNS:-32}
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { apt-get update -q && apt-get install -y -q wrk nginx-light; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=.scratch/bench/segment; rm -rf "$W"; mkdir -p "$W/nginx" "$W/out"
go build -o "$W/spoor" ./cmd/spoor
sed "s#NGINX_DIR#$PWD/$W/nginx#g" scripts/bench/nginx.conf > "$W/nginx/nginx.conf"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
"$NGINX" -c "$PWD/$W/nginx/nginx.conf" -e "$PWD/$W/nginx/error.log" & PIDS+=($!)
# fresh: a new `spoor run` on an empty data directory, the last one stopped and its data removed, so every
# run starts from the same state: no backlog, stream or file store an earlier run grew, nothing left
# dirty in the page cache (sync).
SPOOR_PID=
fresh() {
  if [ -n "$SPOOR_PID" ]; then kill "$SPOOR_PID" 2>/dev/null || true; wait "$SPOOR_PID" 2>/dev/null || true; fi
  rm -rf "$W/data"; sync
  SPOOR_DATA_DIR="$W/data" SPOOR_HTTP_ADDR=127.0.0.1:18280 SPOOR_LOG_LEVEL=warn SPOOR_SEGMENT_WRITE_KEYS=wk_bench_key_01=bench \
    "$W/spoor" -config config.json run 2>> "$W/spoor.log" &
  SPOOR_PID=$!; PIDS+=($SPOOR_PID)
  wait_port 127.0.0.1 18280 60
  sleep 1
}
wait_port 127.0.0.1 18081 10
declare -A URL=([nginx]=http://127.0.0.1:18081/v1/batch [spoor]=http://127.0.0.1:18280/v1/batch [native]=http://127.0.0.1:18280/tr/v1/
  [track]=http://127.0.0.1:18280/v1/track [single]=http://127.0.0.1:18280/tr/v1/)
declare -A LUA=([nginx]=segment_batch100 [spoor]=segment_batch100 [native]=native_batch100 [track]=segment_track [single]=native_single)
# Every spoor target runs on a fresh `spoor run`; the order is reversed every other run, so no target
# always comes first.
for run in $(seq "$RUNS"); do
  order="nginx spoor native track single"
  [ $((run % 2)) = 1 ] || order="single track native spoor nginx"
  for t in $order; do
    [ "$t" = nginx ] || fresh
    wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s scripts/bench/${LUA[$t]}.lua "${URL[$t]}" > "$W/out/wrk.$t.$run.txt"
    say "run $run $t: $(grep Requests/sec "$W/out/wrk.$t.$run.txt")"
  done
done
fresh
# spoor import: a fresh 200,000-row CSV per run (other users each time, so nothing is deduplicated away)
# through the same collector, timed; against the native batch path's events/s above.
for run in $(seq "$RUNS"); do
  python3 -c "
import sys
print('ename,uid,created,revenue,sku')
for i in range(200000):
    print(f'purchase,r$run-u{i % 5000},2026-11-01T10:{i % 60:02d}:00Z,{i % 97}.99,sku-{i}')" > "$W/import.$run.csv"
  s0=$(date +%s.%N)
  SPOOR_LINKS_BASE_URL=http://127.0.0.1:18280 "$W/spoor" -config config.json import "$W/import.$run.csv" > "$W/out/import.$run.txt"
  python3 -c "print(200000 / ($(date +%s.%N) - $s0))" > "$W/out/import.$run.rps"
  say "run $run import: $(cat "$W/out/import.$run.txt") -> $(cat "$W/out/import.$run.rps") rows/s"
done
curl -s http://127.0.0.1:18280/metrics | grep -E '^spoor_collector_(events_acked|rejected)_total|^spoor_collector_events_received_total\{endpoint="segment"' > "$W/out/metrics.txt" || true
python3 - "$W/out" "$RUNS" "$CONNS" "$DURATION" > "$W/table.md" <<'PY'
import re, statistics, sys, datetime
out, runs, conns, dur = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def wrk(t):
    rs = [open(f"{out}/wrk.{t}.{r}.txt").read() for r in range(1, runs + 1)]
    rps = [float(re.search(r"Requests/sec:\s+([\d.]+)", x).group(1)) for x in rs]
    bad = sum(int(m.group(1)) for x in rs for m in [re.search(r"Non-2xx or 3xx responses: (\d+)", x)] if m)
    return statistics.median(rps), rps, bad
ng, sp, nat = wrk("nginx"), wrk("spoor"), wrk("native")
print(f"Measured {datetime.date.today()} on 2 cores, loopback, one session: wrk -t2 -c{conns} -d{dur}, POST /v1/batch of 100 track "
      f"messages (~23 KB, each with its own messageId; scripts/bench/segment_batch100.lua), {runs} runs alternated (the order reversed every other run), each spoor target on a fresh `spoor run` (empty data directory), medians. "
      "`spoor run` (embedded JetStream, file sink) makes every message durable before its 200; nginx answers 204 unread.\n")
print("| target | requests/s | events/s | ÷ nginx (requests) | ÷ spoor's own batch | non-2xx | per run (requests/s) |")
print("|---|---|---|---|---|---|---|")
for name, (m, rs, bad) in (("nginx `return 204` (the Segment body, unread)", ng), ("spoor `/v1/batch` (Segment)", sp),
                           ("spoor `/tr/v1/` (the same 100 events in spoor's JSON)", nat)):
    print(f"| {name} | {m:,.0f} | {m*100:,.0f} | {m/ng[0]:.2f}× | **{m/nat[0]:.2f}×** | {bad} | " + ", ".join(f"{x:,.0f}" for x in rs) + " |")
pairs = [a / b for a, b in zip(sp[1], nat[1])]
print(f"\nPer run, `/v1/batch` ÷ `/tr/v1/` (the two measured back to back): " + ", ".join(f"{x:.2f}" for x in pairs)
      + f"; median **{statistics.median(pairs):.2f}×**.")
tr, si = wrk("track"), wrk("single")
print(f"\nSingle messages: POST /v1/track of one of those messages (scripts/bench/segment_track.lua) against a single native POST "
      "of the same purchase (scripts/bench/native_single.lua), each with its own id, same session, each on a fresh `spoor run`.\n")
print("| target | requests/s (events/s) | ÷ the native single POST | non-2xx | per run (requests/s) |")
print("|---|---|---|---|---|")
for name, (m, rs, bad) in (("spoor `/v1/track` (Segment)", tr), ("spoor `/tr/v1/` (one event in spoor's JSON)", si)):
    print(f"| {name} | {m:,.0f} | **{m/si[0]:.2f}×** | {bad} | " + ", ".join(f"{x:,.0f}" for x in rs) + " |")
pairs = [a / b for a, b in zip(tr[1], si[1])]
print(f"\nPer run, `/v1/track` ÷ the native single POST: " + ", ".join(f"{x:.2f}" for x in pairs)
      + f"; median **{statistics.median(pairs):.2f}×**.")
imp = [float(open(f"{out}/import.{r}.rps").read()) for r in range(1, runs + 1)]
mi = statistics.median(imp)
print(f"\n`spoor import` of a 200,000-row CSV (a fresh file per run), through the same collector: **{mi:,.0f} rows/s** "
      f"(median of {runs}: " + ", ".join(f"{x:,.0f}" for x in imp) + f"), {mi / (nat[0] * 100):.2f}× the native batch path's events/s "
      "(each row read, checked and given its id on the client, posted in batches of 500, four in flight, each answered once durable; client and collector share the 2 cores).")
m = open(f"{out}/metrics.txt").read().strip()
if m:
    print("\n```\n" + m + "\n```")
PY
cat "$W/table.md"
grep -q '<!-- BENCH:segment -->' docs/benchmarks.md || printf '\n## The Segment API (`bash scripts/bench/segment.sh`)\n\n<!-- BENCH:segment -->\n<!-- /BENCH:segment -->\n' >> docs/benchmarks.md
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" segment
