#!/usr/bin/env bash
# Helpers for the benchmarks that drive scripts/cluster.sh's cluster (cluster.sh, roles.sh); sourced.
# CQL must hold the command that runs one CQL statement against the cluster (scripts/cql).

rows() { # rows of app $1 today (every bucket partition)
  local n=0 b
  for b in $(seq 0 15); do
    n=$((n + $($CQL "SELECT count(*) AS n FROM spoor.events_by_day WHERE app = '$1' AND day = '$(date -u +%F)' AND bucket = $b" |
      python3 -c 'import json,sys;print(json.loads(sys.stdin.read())["n"])')))
  done
  echo $n
}

backlog() { # messages waiting or unacknowledged in the event streams' consumers
  curl -fs "http://127.0.0.1:28222/jsz?streams=true&consumers=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(c.get("num_pending", 0) + c.get("num_ack_pending", 0) for a in d.get("account_details") or [] for s in a.get("stream_detail") or [] if s["name"].startswith("SPOOR_EVENTS") for c in s.get("consumer_detail") or []))'
}
