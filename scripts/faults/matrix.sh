#!/usr/bin/env bash
# The whole fault matrix against the real cluster, one fault after another
# (about 15 minutes), its results written into docs/reliability.md.
#   bash scripts/faults/matrix.sh [runner flags, e.g. -rate 150]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
mkdir -p .scratch/faults
RESULTS=.scratch/faults/matrix-$(date -u +%Y%m%dT%H%M).jsonl
rc=0
RESULTS=$RESULTS bash scripts/faults/run.sh all "$@" || rc=$?
go run ./scripts/faults -render "$RESULTS" -doc docs/reliability.md -command "$(echo bash scripts/faults/matrix.sh "$@")"
exit $rc
