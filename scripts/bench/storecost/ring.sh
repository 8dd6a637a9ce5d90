#!/usr/bin/env bash
# The 3-node ring scripts/bench/storecost.sh measures at RF 3 (NODES=3): scripts/cluster.sh's three
# Cassandra nodes (127.0.0.1-3:29042, one token each) in a directory of their own, each with a 1 GiB
# heap as the single node has, pinned to CASSANDRA_CPUS, and JMX on 127.0.0.1:17297-17299 (local JMX listens on loopback only) for nodetool.
#   ring.sh start | stop | pids | nodetool ARGS   (nodetool: on each node in turn, outputs one after the other)
#   ring.sh pin all | K     every node on CPU 1, or node K alone on CPU 1 and the other two on CPU 0
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CLUSTER_DIR=${RING_DIR:-$ROOT/.scratch/bench/storecost/ring} CLUSTER_CASSANDRA_HEAP=${RING_HEAP:-1G}
jmx() { echo $((17296 + $1)); }
case "${1:-}" in
  start) for n in 1 2 3; do CASSANDRA_JMX_PORT=$(jmx "$n") bash "$ROOT/scripts/cluster.sh" up "cass$n"; done ;;
  stop) for n in 1 2 3; do bash "$ROOT/scripts/cluster.sh" down "cass$n"; done ;;
  pin) n=0
    for p in $(cat "$CLUSTER_DIR"/cass{1,2,3}/cassandra.pid); do
      n=$((n + 1)); cpu=1; [ "$2" = all ] || [ "$2" = "$n" ] || cpu=0
      taskset -a -p -c "$cpu" "$p" >/dev/null
    done ;;
  pid) cat "$CLUSTER_DIR/cass$2/cassandra.pid" ;;
  pids) cat "$CLUSTER_DIR"/cass{1,2,3}/cassandra.pid | paste -sd, ;;
  nodetool) shift
    for n in 1 2 3; do
      CASSANDRA_DIR=$CLUSTER_DIR/cass$n CASSANDRA_HOST=127.0.0.1 CASSANDRA_JMX_PORT=$(jmx "$n") bash "$ROOT/scripts/cassandra.sh" nodetool "$@"
    done ;;
  *) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
