#!/usr/bin/env bash
# A real single-node Apache Cassandra for tests and laptops, from Maven Central.
#
#   scripts/cassandra.sh start        fetch (once, cached in ~/.m2) and start; waits for CQL; safe to call twice
#   scripts/cassandra.sh stop         stop it (kill: with SIGKILL)
#   scripts/cassandra.sh wait         wait until CQL answers
#   scripts/cassandra.sh status       exit 0 when CQL answers
#   scripts/cassandra.sh query "CQL"  run one statement and print the rows
#   scripts/cassandra.sh fetch        only resolve the classpath
#   scripts/cassandra.sh nodetool ARGS nodetool against this node (needs CASSANDRA_JMX_PORT at start)
#
# Environment: CASSANDRA_VERSION (5.0.8), SPOOR_CASSANDRA_PORT (19042, native CQL),
# CASSANDRA_STORAGE_PORT (17000), CASSANDRA_HEAP (1G), CASSANDRA_DIR (.scratch/cassandra),
# CASSANDRA_START_TIMEOUT (180 seconds), CASSANDRA_NO_WAIT (1: start returns without waiting for CQL),
# CASSANDRA_JMX_PORT (0: no JMX; a port: JMX on the node's host, for nodetool), CASSANDRA_CPUS (taskset list),
# CASSANDRA_MEMTABLE (skiplist: skip-list memtables on a 128 MiB heap share; trie: trie memtables off
# the heap, 128 MiB on it and 256 MiB off it, which cost more CPU per event in storecost.sh, 0.51x the
# 69fc32c sink against 0.37x with skiplist, so not the default).
# A node of a cluster (scripts/cluster.sh): CASSANDRA_HOST (127.0.0.1; its listen and CQL address),
# CASSANDRA_SEEDS (host:storage_port,...), CASSANDRA_CLUSTER (spoor-local), CASSANDRA_TOKEN (0),
# CASSANDRA_HINTS (false: hinted handoff, for nodes that may be down while others take writes).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
SAY_AS=cassandra.sh
VERSION=${CASSANDRA_VERSION:-5.0.8}
PORT=${SPOOR_CASSANDRA_PORT:-19042}
STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-17000}
HEAP=${CASSANDRA_HEAP:-1G}
DIR=${CASSANDRA_DIR:-$ROOT/.scratch/cassandra}
HOST=${CASSANDRA_HOST:-127.0.0.1}
SEEDS=${CASSANDRA_SEEDS:-$HOST:$STORAGE_PORT}
CLUSTER=${CASSANDRA_CLUSTER:-spoor-local}
TOKEN=${CASSANDRA_TOKEN:-0}
HINTS=${CASSANDRA_HINTS:-false}
MEMTABLE=${CASSANDRA_MEMTABLE:-skiplist}
LIB=$ROOT/.cache/cassandra-$VERSION/lib
TIMEOUT=${CASSANDRA_START_TIMEOUT:-180}
PIDFILE=$DIR/cassandra.pid
JMX_PORT=${CASSANDRA_JMX_PORT:-0}
PIN=()
if [ -n "${CASSANDRA_CPUS:-}" ]; then PIN=(taskset -c "$CASSANDRA_CPUS"); fi

fetch() {
  if [ -f "$LIB/cassandra-all-$VERSION.jar" ] && [ -f "$LIB/.complete" ]; then return 0; fi
  say "resolving cassandra-all $VERSION and its runtime dependencies from Maven Central"
  rm -rf "$LIB"; mkdir -p "$LIB"
  local try
  for try in 1 2; do
    if mvn -B -q -Dstyle.color=never -f "$ROOT/scripts/cassandra/pom.xml" -Dcassandra.version="$VERSION" \
         dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB"; then
      touch "$LIB/.complete"; return 0
    fi
    say "maven failed (attempt $try)"; sleep 5
  done
  return 1
}

start() {
  if running "$PIDFILE" && port_open "$HOST" "$PORT"; then say "already running (pid $(cat "$PIDFILE")) on $HOST:$PORT"; return 0; fi
  if port_open "$HOST" "$PORT"; then say "port $HOST:$PORT is taken by another process"; return 1; fi
  fetch
  mkdir -p "$DIR/data" "$DIR/logs"
  sed -e "s/@NATIVE_PORT@/$PORT/" -e "s/@STORAGE_PORT@/$STORAGE_PORT/" -e "s/@HOST@/$HOST/g" \
    -e "s/@SEEDS@/$SEEDS/" -e "s/@CLUSTER@/$CLUSTER/" -e "s/@TOKEN@/$TOKEN/" -e "s/@HINTS@/$HINTS/" \
    "$ROOT/scripts/cassandra/cassandra.yaml.in" > "$DIR/cassandra.yaml"
  case $MEMTABLE in
    skiplist) printf 'memtable_allocation_type: heap_buffers\nmemtable_heap_space: 128MiB\n' >> "$DIR/cassandra.yaml" ;;
    trie) printf '%s\n' 'memtable_allocation_type: offheap_objects' 'memtable_heap_space: 128MiB' 'memtable_offheap_space: 256MiB' \
      'memtable:' '  configurations:' '    default:' '      class_name: TrieMemtable' >> "$DIR/cassandra.yaml" ;;
    *) say "CASSANDRA_MEMTABLE must be trie or skiplist, got $MEMTABLE"; return 1 ;;
  esac
  say "starting Cassandra $VERSION on $HOST:$PORT (data in $DIR/data, log in $DIR/logs)"
  # The flags bin/cassandra would add on Java 17 (conf/jvm17-server.options,
  # jvm-server.options, cassandra-env.sh's jamm agent), a small heap, and the
  # properties that make a single test node start fast.
  nohup "${PIN[@]}" java -Xms"$HEAP" -Xmx"$HEAP" -Xss256k -XX:+UseG1GC -XX:MaxGCPauseMillis=300 \
    -XX:+ExitOnOutOfMemoryError -ea -da:net.openhft... -Djava.net.preferIPv4Stack=true \
    @"$ROOT/scripts/cassandra/jvm17.args" \
    -javaagent:"$LIB/jamm-0.4.0.jar" \
    -Dcassandra-foreground=yes \
    -Dcassandra.config="file://$DIR/cassandra.yaml" \
    -Dcassandra.storagedir="$DIR/data" -Dcassandra.logdir="$DIR/logs" \
    -Dlogback.configurationFile="$ROOT/scripts/cassandra/logback.xml" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 \
    -Dcassandra.jmx.local.port="$JMX_PORT" -Djava.rmi.server.hostname="$HOST" \
    -cp "$LIB/*" org.apache.cassandra.service.CassandraDaemon > "$DIR/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  if [ "${CASSANDRA_NO_WAIT:-}" = 1 ]; then return 0; fi
  wait_ready
}

# wait_ready: until CQL answers, or fail with the log's tail.
wait_ready() {
  local start=$SECONDS
  if ! wait_port "$HOST" "$PORT" "$TIMEOUT" "$PIDFILE"; then
    if running "$PIDFILE"; then say "CQL port not open after ${TIMEOUT}s:"; stop; else say "Cassandra exited during start-up:"; fi
    tail -40 "$DIR/logs/stdout.log" >&2
    return 1
  fi
  say "$HOST:$PORT ready in $((SECONDS - start))s (pid $(cat "$PIDFILE"))"
}

stop() {
  if ! running "$PIDFILE"; then say "not running ($HOST:$PORT)"; rm -f "$PIDFILE"; return 0; fi
  stop_pidfile "$PIDFILE" 60 "${1:-TERM}"
  say "stopped ($HOST:$PORT)"
}

case "${1:-}" in
  start) start ;;
  wait) wait_ready ;;
  stop) stop ;;
  kill) stop KILL ;;
  status) if port_open "$HOST" "$PORT"; then say "CQL answers on $HOST:$PORT"; else say "not answering on $HOST:$PORT"; exit 1; fi ;;
  query) shift; cd "$ROOT" && go run ./scripts/cql -hosts "$HOST:$PORT" "$@" ;;
  fetch) fetch ;;
  nodetool) shift; [ "$JMX_PORT" != 0 ] || { say "set CASSANDRA_JMX_PORT (at start too)"; exit 2; }
    exec java @"$ROOT/scripts/cassandra/jvm17.args" -cp "$LIB/*" -Dcassandra.logdir="$DIR/logs" -Dlogback.configurationFile="$ROOT/scripts/cassandra/logback.xml" \
      org.apache.cassandra.tools.NodeTool -h "$HOST" -p "$JMX_PORT" "$@" ;;
  *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
