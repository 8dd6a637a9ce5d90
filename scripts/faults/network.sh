#!/usr/bin/env bash
# The faults the network and the disk make (issue 29), against the cluster in
# network namespaces (CLUSTER_NETNS=1 scripts/cluster.sh: every member on its
# own namespace and address, links cut with nftables, slowed and silenced by
# toxiproxy, the collectors' spools on filesystems of their own), one after
# another at RATE events/s (250: more than half of the cluster's sustained
# 451 events/s in docs/benchmarks.md), each ending in the exact
# reconciliation; the table goes into docs/reliability.md (NETFAULTS). Root.
#   bash scripts/faults/network.sh [runner flags, e.g. -partition 60s]     (~20 minutes)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
mkdir -p .scratch/faults
RESULTS=.scratch/faults/network-$(date -u +%Y%m%dT%H%M).jsonl
rc=0
CLUSTER_NETNS=1 RESULTS=$RESULTS bash scripts/faults/run.sh "${FAULTS:-network}" -rate "${RATE:-250}" "$@" || rc=$?
go run ./scripts/faults -render "$RESULTS" -doc docs/reliability.md -block NETFAULTS \
  -command "$(echo bash scripts/faults/network.sh "$@")"
exit $rc
