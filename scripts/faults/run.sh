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
if ! port_open 127.0.0.1 18181 || ! port_open 127.0.0.1 18182; then
  started=1
  bash scripts/cluster.sh start
fi
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    say "failed; the last lines of each member's log:"
    for f in .scratch/cluster/logs/*.log; do echo "== $f"; tail -5 "$f"; done >&2
  fi
  if [ $started = 1 ] && [ "${KEEP_CLUSTER:-}" != 1 ]; then bash scripts/cluster.sh stop; fi
}
trap cleanup EXIT
mkdir -p .scratch/faults
. .scratch/cluster/spoor.env
go run ./scripts/faults -faults "$FAULTS" -results "${RESULTS:-.scratch/faults/results.jsonl}" "$@"
