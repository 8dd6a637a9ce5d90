#!/usr/bin/env bash
# Runs faults against the real cluster (scripts/cluster.sh): starts it if it
# is not running, runs the listed faults one after another with an exact
# reconciliation each, and stops the cluster again when it started it.
#
#   bash scripts/faults/run.sh sink-kill,collector-term,leader-stepdown   (what .ci/run runs)
#   bash scripts/faults/run.sh all                                         (the whole matrix: ~20 min)
#
# Extra arguments go to the runner (go run ./scripts/faults -h). Exit 1 when
# an event answered 2xx was lost or stored twice.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. scripts/lib.sh
SAY_AS=faults
FAULTS=${1:?usage: run.sh FAULT[,FAULT...]|all [runner flags]}; shift
started=0
# CLUSTER_NETNS=1: the cluster in network namespaces (scripts/clusternet.sh), for the network faults.
host=127.0.0.1 h2=127.0.0.1 dir=.scratch/cluster up=true
if [ "${CLUSTER_NETNS:-}" = 1 ]; then
  host=10.77.0.31 h2=10.77.0.32 dir=.scratch/netcluster
  # Without the cluster's bridge, 10.77.0.x goes to the default route, and a
  # gateway that accepts any connection would look like a running collector.
  ip link show spoorbr0 >/dev/null 2>&1 || up=false
fi
if ! $up || ! port_open $host 18181 || ! port_open $h2 18182; then
  started=1
  bash scripts/cluster.sh start
fi
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    say "failed; the last lines of each member's log:"
    for f in "$dir"/logs/*.log; do echo "== $f"; tail -5 "$f"; done >&2
  fi
  if [ $started = 1 ] && [ "${KEEP_CLUSTER:-}" != 1 ]; then bash scripts/cluster.sh stop; fi
}
trap cleanup EXIT
mkdir -p .scratch/faults
. "$dir/spoor.env"
go run ./scripts/faults -faults "$FAULTS" -collectors "${CLUSTER_COLLECTORS:-http://127.0.0.1:18181,http://127.0.0.1:18182}" -cluster-dir "$dir" -results "${RESULTS:-.scratch/faults/results.jsonl}" "$@"
