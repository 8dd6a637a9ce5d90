#!/usr/bin/env bash
# A real single-node Apache Cassandra for tests and laptops, from Maven Central.
#
#   scripts/cassandra.sh start        fetch (once, cached in ~/.m2) and start; waits for CQL; safe to call twice
#   scripts/cassandra.sh stop         stop it
#   scripts/cassandra.sh status       exit 0 when CQL answers
#   scripts/cassandra.sh query "CQL"  run one statement and print the rows
#   scripts/cassandra.sh fetch        only resolve the classpath
#
# Environment: CASSANDRA_VERSION (5.0.8), SPOOR_CASSANDRA_PORT (19042, native CQL),
# CASSANDRA_STORAGE_PORT (17000), CASSANDRA_HEAP (1G), CASSANDRA_DIR (.scratch/cassandra),
# CASSANDRA_START_TIMEOUT (180 seconds).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=${CASSANDRA_VERSION:-5.0.8}
PORT=${SPOOR_CASSANDRA_PORT:-19042}
STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-17000}
HEAP=${CASSANDRA_HEAP:-1G}
DIR=${CASSANDRA_DIR:-$ROOT/.scratch/cassandra}
LIB=$ROOT/.cache/cassandra-$VERSION/lib
TIMEOUT=${CASSANDRA_START_TIMEOUT:-180}
PIDFILE=$DIR/cassandra.pid

say() { echo "cassandra.sh: $*" >&2; }

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

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

start() {
  if running && port_open; then say "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$PORT"; return 0; fi
  if port_open; then say "port $PORT is taken by another process"; return 1; fi
  fetch
  mkdir -p "$DIR/data" "$DIR/logs"
  sed -e "s/@NATIVE_PORT@/$PORT/" -e "s/@STORAGE_PORT@/$STORAGE_PORT/" \
    "$ROOT/scripts/cassandra/cassandra.yaml.in" > "$DIR/cassandra.yaml"
  say "starting Cassandra $VERSION on 127.0.0.1:$PORT (data in $DIR/data, log in $DIR/logs)"
  # The flags bin/cassandra would add on Java 17 (conf/jvm17-server.options,
  # jvm-server.options, cassandra-env.sh's jamm agent), a small heap, and the
  # properties that make a single test node start fast.
  nohup java -Xms"$HEAP" -Xmx"$HEAP" -Xss256k -XX:+UseG1GC -XX:MaxGCPauseMillis=300 \
    -XX:+ExitOnOutOfMemoryError -ea -da:net.openhft... -Djava.net.preferIPv4Stack=true \
    @"$ROOT/scripts/cassandra/jvm17.args" \
    -javaagent:"$LIB/jamm-0.4.0.jar" \
    -Dcassandra-foreground=yes \
    -Dcassandra.config="file://$DIR/cassandra.yaml" \
    -Dcassandra.storagedir="$DIR/data" -Dcassandra.logdir="$DIR/logs" \
    -Dlogback.configurationFile="$ROOT/scripts/cassandra/logback.xml" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 \
    -Dcassandra.jmx.local.port=0 \
    -cp "$LIB/*" org.apache.cassandra.service.CassandraDaemon > "$DIR/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  local start=$SECONDS
  until port_open; do
    if ! running; then say "Cassandra exited during start-up:"; tail -40 "$DIR/logs/stdout.log" >&2; return 1; fi
    if (( SECONDS - start > TIMEOUT )); then say "CQL port not open after ${TIMEOUT}s:"; tail -40 "$DIR/logs/stdout.log" >&2; stop; return 1; fi
    sleep 1
  done
  say "ready in $((SECONDS - start))s (pid $(cat "$PIDFILE"))"
}

stop() {
  if ! running; then say "not running"; rm -f "$PIDFILE"; return 0; fi
  local pid; pid=$(cat "$PIDFILE")
  kill "$pid"
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; say "stopped"; return 0; }; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true; rm -f "$PIDFILE"; say "killed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if port_open; then say "CQL answers on 127.0.0.1:$PORT"; else say "not answering on 127.0.0.1:$PORT"; exit 1; fi ;;
  query) shift; cd "$ROOT" && go run ./scripts/cql -hosts "127.0.0.1:$PORT" "$@" ;;
  fetch) fetch ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
