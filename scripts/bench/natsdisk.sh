#!/usr/bin/env bash
# What nats.compression saves on the streams' disks: scripts/bench/natsdisk publishes the same events
# (one per message, with their event ids) into a fresh embedded JetStream stream with compression none
# and with s2, RUNS times alternated, and reports bytes on disk per event against the events' own
# encoded bytes. The medians go to .scratch/bench/natsdisk/natsdisk.json, which scripts/bench/sizing.py
# takes for the NATS disk line of docs/operations.md, and the table to docs/benchmarks.md.
#   bash scripts/bench/natsdisk.sh        (RUNS=3 EVENTS=200000; about a minute)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
RUNS=${RUNS:-3} EVENTS=${EVENTS:-200000}
W=.scratch/bench/natsdisk
mkdir -p "$W"
go build -o "$W/natsdisk" ./scripts/bench/natsdisk
: > "$W/runs.jsonl"
for _ in $(seq "$RUNS"); do "$W/natsdisk" -events "$EVENTS" >> "$W/runs.jsonl"; done
python3 - "$W" <<'PY' > "$W/table.md"
import json, statistics, sys, datetime
w = sys.argv[1]
rows = [json.loads(l) for l in open(f"{w}/runs.jsonl")]
med = lambda c, f: statistics.median(r[f] for r in rows if r["compression"] == c)
out = {c: {"disk_bytes_per_event": med(c, "disk_bytes_per_event"), "encoded_bytes_per_event": med(c, "encoded_bytes_per_event"),
           "cpu_s_per_1000": med(c, "cpu_s_per_1000")} for c in ("none", "s2")}
for c in out:
    out[c]["disk_per_encoded"] = out[c]["disk_bytes_per_event"] / out[c]["encoded_bytes_per_event"]
json.dump(out, open(f"{w}/natsdisk.json", "w"), indent=1)
print(f"Measured {datetime.date.today()} by `bash scripts/bench/natsdisk.sh`: {rows[0]['events']:,} page-load events "
      f"({out['none']['encoded_bytes_per_event']:.0f} B of NDJSON each), one per message with its event id, into a fresh "
      f"embedded stream per run, medians of {len(rows) // 2} alternated runs. CPU: publisher and server in one process, "
      "so only the ratio means anything.\n")
print("| `nats.compression` | bytes on disk per event | ÷ the event's bytes | ÷ none | CPU s per 1,000 events | ÷ none |")
print("|---|---|---|---|---|---|")
for c in ("none", "s2"):
    o = out[c]
    print(f"| `{c}` | {o['disk_bytes_per_event']:.0f} | {o['disk_per_encoded']:.2f} | **{o['disk_bytes_per_event'] / out['none']['disk_bytes_per_event']:.2f}×** | "
          f"{o['cpu_s_per_1000']:.4f} | {o['cpu_s_per_1000'] / out['none']['cpu_s_per_1000']:.2f}× |")
PY
cat "$W/table.md"
python3 scripts/bench/report.py --update docs/benchmarks.md "$W/table.md" natsdisk
