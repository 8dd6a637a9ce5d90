#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: broker and controller in one process, no ZooKeeper)
# for tests and laptops, from Maven Central, started the way scripts/cassandra.sh starts Cassandra.
#
#   scripts/kafka.sh start     fetch (once, cached in ~/.m2), format its storage (once) and start; waits for the port
#   scripts/kafka.sh stop      stop it (kill: with SIGKILL)
#   scripts/kafka.sh status    exit 0 when the broker's port answers
#   scripts/kafka.sh fetch     only resolve the classpath
#
# Environment: KAFKA_VERSION (4.4.0), SPOOR_KAFKA_PORT (19092; the controller listens one above),
# KAFKA_HEAP (512M), KAFKA_DIR (.scratch/kafka), KAFKA_START_TIMEOUT (120 seconds).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
SAY_AS=kafka.sh
VERSION=${KAFKA_VERSION:-4.4.0}
PORT=${SPOOR_KAFKA_PORT:-19092}
CONTROLLER_PORT=$((PORT + 1))
HEAP=${KAFKA_HEAP:-512M}
DIR=${KAFKA_DIR:-$ROOT/.scratch/kafka}
LIB=$ROOT/.cache/kafka-$VERSION/lib
TIMEOUT=${KAFKA_START_TIMEOUT:-120}
PIDFILE=$DIR/kafka.pid
HOST=127.0.0.1

fetch() {
  if [ -f "$LIB/kafka_2.13-$VERSION.jar" ] && [ -f "$LIB/.complete" ]; then return 0; fi
  say "resolving kafka_2.13 $VERSION and its runtime dependencies from Maven Central"
  rm -rf "$LIB"; mkdir -p "$LIB"
  local try
  for try in 1 2; do
    if mvn -B -q -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$VERSION" \
         dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB"; then
      touch "$LIB/.complete"; return 0
    fi
    say "maven failed (attempt $try)"; sleep 5
  done
  return 1
}

java_kafka() { java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true -cp "$LIB/*" "$@"; }

start() {
  if running "$PIDFILE" && port_open "$HOST" "$PORT"; then say "already running (pid $(cat "$PIDFILE")) on $HOST:$PORT"; return 0; fi
  if port_open "$HOST" "$PORT"; then say "port $HOST:$PORT is taken by another process"; return 1; fi
  fetch
  mkdir -p "$DIR/data" "$DIR/logs"
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
PROPS
  if [ ! -f "$DIR/data/meta.properties" ]; then
    java_kafka kafka.tools.StorageTool format -t "$(java_kafka kafka.tools.StorageTool random-uuid)" -c "$DIR/server.properties" \
      > "$DIR/logs/format.log" 2>&1 || { say "formatting the storage failed:"; cat "$DIR/logs/format.log" >&2; return 1; }
  fi
  say "starting Kafka $VERSION on $HOST:$PORT (KRaft; data in $DIR/data)"
  nohup java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseG1GC -Djava.awt.headless=true -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" \
    > "$DIR/logs/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  local t0=$SECONDS
  if ! wait_port "$HOST" "$PORT" "$TIMEOUT" "$PIDFILE"; then
    say "the broker did not answer on $HOST:$PORT:"; tail -30 "$DIR/logs/stdout.log" >&2; stop; return 1
  fi
  say "$HOST:$PORT ready in $((SECONDS - t0))s (pid $(cat "$PIDFILE"))"
}

stop() {
  if ! running "$PIDFILE"; then say "not running ($HOST:$PORT)"; rm -f "$PIDFILE"; return 0; fi
  stop_pidfile "$PIDFILE" 60 "${1:-TERM}"
  say "stopped ($HOST:$PORT)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  kill) stop KILL ;;
  status) if port_open "$HOST" "$PORT"; then say "answers on $HOST:$PORT"; else say "not answering on $HOST:$PORT"; exit 1; fi ;;
  fetch) fetch ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
