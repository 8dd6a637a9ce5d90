#!/usr/bin/env bash
# What the durable ack costs, per collector.ack, in one session: `spoor collector` (embedded JetStream,
# no sink in the process) with collector.ack: replicated, the same with collector.ack: local (the spool's
# group commit, the forwarder behind it), and the same binary built with -tags bench_nodurable (answers
# and drops: the ceiling without an ack). wrk runs each scenario against the three in turn, RUNS times,
# each run on a fresh collector (empty data directory, page cache synced; the order reversed every other run)
# after WARMUP (2s) of the same load that is not counted;
# the table gives medians, each as a ratio of the no-ack ceiling, and the ack's cost (1 - that ratio).
# It also reports, per target, the spoor process's CPU seconds per 1,000 requests (/proc/PID/stat).
#   bash scripts/bench/ack.sh            (RUNS=5 DURATION=8s CONNS=64; ~13 minutes)
# LAYOUT=external puts JetStream where a cluster has it, outside the collector: each collector gets a
# nats-server of its own (built from its Go module, R1, fresh with it), and the collector runs alone on
# CPU 0 while that nats-server and wrk share CPU 1, so the ratio is the ack's cost to the collector's own
# core (the role's ceiling in docs/operations.md's sizing); the nats-server's CPU per request is reported
# beside it. The default, LAYOUT=embedded, is `spoor run`'s: JetStream inside the collector, every
# process on both cores.
#   LAYOUT=external bash scripts/bench/ack.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/ack
RUNS=${RUNS:-5} DURATION=${DURATION:-8s} WARMUP=${WARMUP:-2s} CONNS=${CONNS:-64} SCENARIOS=${SCENARIOS:-get_tuplet post_single post_single_eid post_batch20}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
LAYOUT=${LAYOUT:-embedded}
case $LAYOUT in
  embedded) W=.scratch/bench/ack PIN_SPOOR="" PIN_LOAD="" ;;
  external) W=.scratch/bench/ack-external PIN_SPOOR="taskset -c 0" PIN_LOAD="taskset -c 1" ;;
  *) echo "LAYOUT is embedded or external, not $LAYOUT" >&2; exit 2 ;;
esac
rm -rf "$W"; mkdir -p "$W/out"
go build -o "$W/spoor" ./cmd/spoor
go build -tags bench_nodurable -o "$W/spoor-nodurable" ./cmd/spoor
[ "$LAYOUT" = embedded ] || go build -o "$W/nats-server" github.com/nats-io/nats-server/v2
# fresh TARGET: that target's collector stopped, its data removed, the page cache synced, and a new one
# started on an empty data directory and waited for. Every cell runs on a fresh collector: in one
# long-lived process the stream an earlier run grew, and the page cache it left dirty, slowed the
# targets that store (replicated's batch20 went 7,850 → 5,790 req/s over five runs while the no-ack
# build, which stores nothing, did not fall), as segment.sh found for its targets.
declare -A PORT=([replicated]=18480 [local]=18481 [nodurable]=18482) NPORT=([replicated]=14280 [local]=14281 [nodurable]=14282)
stop() { # NAME: its process (pid file $W/NAME.pid) stopped and waited for
  if [ -f "$W/$1.pid" ]; then kill "$(cat "$W/$1.pid")" 2>/dev/null || true; wait "$(cat "$W/$1.pid")" 2>/dev/null || true; fi
}
fresh() {
  local name=$1 bin=spoor; local -a envs=(SPOOR_COLLECTOR_ACK=$1)
  [ "$name" = nodurable ] && bin=spoor-nodurable envs=()
  stop "$name"; stop "nats-$name"
  rm -rf "$W/data-$name" "$W/nats-data-$name"; sync
  if [ "$LAYOUT" = external ]; then
    $PIN_LOAD "$W/nats-server" -js -sd "$W/nats-data-$name" -a 127.0.0.1 -p "${NPORT[$name]}" 2>> "$W/nats-$name.log" & echo $! > "$W/nats-$name.pid"
    for _ in $(seq 100); do port_open 127.0.0.1 "${NPORT[$name]}" && break; sleep 0.1; done
    envs+=(SPOOR_NATS_URL=nats://127.0.0.1:${NPORT[$name]})
  fi
  env SPOOR_DATA_DIR="$W/data-$name" SPOOR_HTTP_ADDR=127.0.0.1:${PORT[$name]} SPOOR_LOG_LEVEL=warn SPOOR_NATS_MAX_BYTES=34359738368 \
    "${envs[@]}" $PIN_SPOOR "$W/$bin" -config config.json collector 2>> "$W/$name.log" & echo $! > "$W/$name.pid"
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:${PORT[$name]}/readyz" >/dev/null && return; sleep 0.1; done
  die "$name did not become ready (see $W/$name.log)"
}
die() { say "$*"; exit 1; }
trap 'for n in replicated local nodurable; do for p in "$W/$n.pid" "$W/nats-$n.pid"; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true; done; done; wait 2>/dev/null || true' EXIT
cpu() { awk '{print $14+$15}' "/proc/$(cat "$W/$1.pid")/stat"; } # utime+stime, clock ticks
ncpu() { if [ "$LAYOUT" = external ]; then cpu "nats-$1"; else echo 0; fi; } # the target's nats-server
TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
: > "$W/results.tsv"
for run in $(seq "$RUNS"); do
  for scenario in $SCENARIOS; do
    path=/tr/v1/; [ "$scenario" = get_tuplet ] && path=$TUPLET
    order="replicated local nodurable"
    [ $((run % 2)) = 1 ] || order="nodurable local replicated" # no target always first
    for target in $order; do
      port=${PORT[$target]}
      fresh "$target"
      # WARMUP of the same load, not counted: a new process's pools, connections and stream are grown
      # before the measured run, as a collector that has been up for a while has them.
      $PIN_LOAD wrk -t2 -c"$CONNS" -d"$WARMUP" -s "scripts/bench/$scenario.lua" "http://127.0.0.1:$port$path" > /dev/null
      c0=$(cpu "$target") n0=$(ncpu "$target")
      $PIN_LOAD wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s "scripts/bench/$scenario.lua" "http://127.0.0.1:$port$path" > "$W/out/$scenario.$target.$run.txt"
      c1=$(cpu "$target") n1=$(ncpu "$target")
      rps=$(awk '/Requests\/sec/ {print $2}' "$W/out/$scenario.$target.$run.txt")
      non2xx=$(awk '/Non-2xx/ {print $5}' "$W/out/$scenario.$target.$run.txt")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$scenario" "$target" "$rps" "$((c1 - c0))" "${non2xx:-0}" "$((n1 - n0))" >> "$W/results.tsv"
      say "run $run $scenario $target: $rps req/s"
    done
  done
done
python3 - "$W/results.tsv" "$RUNS" "$CONNS" "$DURATION" "$(getconf CLK_TCK)" "$WARMUP" "$LAYOUT" <<'PY' | tee "$W/table.md"
import csv, statistics, sys, datetime
rows = list(csv.reader(open(sys.argv[1]), delimiter="\t"))
runs, conns, dur, tck, warm, layout = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6], sys.argv[7]
secs = float(dur.rstrip("s"))
per = {"get_tuplet": 1, "post_single": 1, "post_single_eid": 1, "post_batch20": 20}
scen = [s for s in per if any(r[1] == s for r in rows)]
def med(s, t, f):
    return statistics.median(f(r) for r in rows if r[1] == s and r[2] == t)
rps = lambda r: float(r[3])
cpu = lambda r: float(r[4]) / tck / (float(r[3]) * secs) * 1e6  # CPU µs per request
ncpu = lambda r: float(r[6] if len(r) > 6 else 0) / tck / (float(r[3]) * secs) * 1e6  # the nats-server's
where = ("embedded JetStream, no sink in the process, every process on both cores" if layout == "embedded" else
         "JetStream in a nats-server of its own (R1, built from its Go module), the collector alone on CPU 0, that nats-server and wrk on CPU 1")
print(f"Measured {datetime.date.today()}: `spoor collector` ({where}) with each `collector.ack`, "
      f"and the same binary built with `-tags bench_nodurable` (no ack: the ceiling), alternated (the order reversed every other run), each run on a fresh collector (empty data directory, page cache synced) after a {warm} warm-up of the same load, wrk -t2 -c{conns} -d{dur}, "
      f"medians of {runs} runs per cell (`{'' if layout == 'embedded' else 'LAYOUT=external '}bash scripts/bench/ack.sh`). The ack's cost is 1 − (req/s with it ÷ req/s without)."
      + (" The collector's core is its ceiling only while CPU 1 keeps up (the nats-server and wrk share it), so the cost is also given by CPU: 1 − (the no-ack build's CPU µs per request ÷ `replicated`'s), what the ack takes of a collector that saturates its core."
         " The nats-server's own CPU per request is in the last column: it sits on its servers, not on the collector's core." if layout == "external" else "") + "\n")
ext = layout == "external"
print("| scenario | no ack, req/s (CPU µs/req) | `replicated` req/s (÷ no ack) | `replicated` ack cost | `local` req/s (÷ no ack) | `local` ack cost | `local` ÷ `replicated` | non-2xx (replicated / local) |"
      + (" `replicated` ack cost on the collector's core, by CPU | nats-server CPU µs/req (replicated / local) |" if ext else ""))
print("|---|---|---|---|---|---|---|---|" + ("---|---|" if ext else ""))
for s in scen:
    z, r, l = med(s, "nodurable", rps), med(s, "replicated", rps), med(s, "local", rps)
    zc, rc, lc = med(s, "nodurable", cpu), med(s, "replicated", cpu), med(s, "local", cpu)
    bad = lambda t: sum(int(x[5] or 0) for x in rows if x[1] == s and x[2] == t)
    print(f"| {s} | {z:,.0f} ({zc:.1f}) | {r:,.0f} ({r/z:.2f}×; {rc:.1f} µs) | {1-r/z:.0%} | {l:,.0f} ({l/z:.2f}×; {lc:.1f} µs) | **{1-l/z:.0%}** | {l/r:.2f}× | {bad('replicated')} / {bad('local')} |"
          + (f" {1-zc/rc:.0%} | {med(s, 'replicated', ncpu):.1f} / {med(s, 'local', ncpu):.1f} |" if ext else ""))
PY
block=ack; [ "$LAYOUT" = embedded ] || block=ack-$LAYOUT
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" "$block"
