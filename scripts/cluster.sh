#!/usr/bin/env bash
# spoor as a cluster on this machine's loopback, without Docker: three real
# nats-server processes (JetStream, clustered over routes, streams at R3),
# three Cassandra nodes on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (keyspace
# NetworkTopologyStrategy RF 3, writes at LOCAL_QUORUM), two `spoor collector`
# and two `spoor sink` processes (one durable consumer) pointed at them.
#
#   scripts/cluster.sh start            build, start everything, apply the schema; safe to call twice
#   scripts/cluster.sh stop             stop everything it started
#   scripts/cluster.sh status           what runs, where, and each partition's leader
#   scripts/cluster.sh load [ARGS]      steady load through both collectors, then an exact
#                                       reconciliation (scripts/faults with -faults none; ARGS go to it)
# Collectors answer on 127.0.0.1:18181-18182; sinks serve /metrics on 18191-18192.
#
#   scripts/cluster.sh up MEMBER        start one member (nats1..3, cass1..3, collector1..2, sink1..2, kafka, dest1)
#   scripts/cluster.sh down MEMBER [SIG] stop one member (SIG: TERM by default, KILL for kill -9)
#   scripts/cluster.sh env              print the environment the spoor processes run with
#
# Environment: CLUSTER_DIR (.scratch/cluster), PARTITIONS (3), CLUSTER_CASSANDRA_HEAP (640M),
# SPOOR_* variables set here override the cluster's defaults for every spoor process.
# CLUSTER_DESTINATIONS=1 also starts a Kafka broker (kafka, 127.0.0.1:29092) and dest1, a `spoor sink`
# that runs only destinations (status on 18193): a webhook into the fault runner's receiver
# (127.0.0.1:18199) and the Kafka topic spoor-faults, each on its own durable consumer.
# CLUSTER_NETNS=1 (root) puts every member in a network namespace of its own on one bridge, and the
# collectors' links to NATS through toxiproxy, so that links can be cut, slowed and reset
# (scripts/clusternet.sh; `cluster.sh net` to do it by hand; members then listen on 10.77.0.x; its
# directory is .scratch/netcluster; pass CLUSTER_NETNS=1 to every cluster.sh command for it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
SAY_AS=cluster.sh
# The namespaced cluster has a directory of its own: both can run at once.
if [ "${CLUSTER_NETNS:-}" = 1 ]; then DIR=${CLUSTER_DIR:-$ROOT/.scratch/netcluster}; else DIR=${CLUSTER_DIR:-$ROOT/.scratch/cluster}; fi
PIDS=$DIR/pids LOGS=$DIR/logs
NATS_BIN=$ROOT/.cache/bin/nats-server
SPOOR_BIN=$ROOT/bin/spoor
CASS_HEAP=${CLUSTER_CASSANDRA_HEAP:-640M}
CQL_PORT=29042 CASS_STORAGE_PORT=27000
# Murmur3 tokens splitting the ring in three equal parts, one per node.
TOKENS=(-9223372036854775808 -3074457345618258603 3074457345618258602)

nats_port() { echo $((24221 + $1)); }      # client port of nats N (1..3)
nats_route() { echo $((26221 + $1)); }     # cluster route port
nats_monitor() { echo $((28221 + $1)); }   # HTTP monitoring port
collector_port() { echo $((18180 + $1)); } # collector N's HTTP port
sink_port() { echo $((18190 + $1)); }      # sink N's /metrics (dest1: 18193)
KAFKA_PORT=29092 RECEIVER=127.0.0.1:18199
# shellcheck source=scripts/clusternet.sh
. "$ROOT/scripts/clusternet.sh"
nats_urls() { echo "nats://$(member_ip nats1):$(nats_port 1),nats://$(member_ip nats2):$(nats_port 2),nats://$(member_ip nats3):$(nats_port 3)"; }
collector_urls() { echo "http://$(member_ip collector1):$(collector_port 1),http://$(member_ip collector2):$(collector_port 2)"; }

# The environment of every spoor process (written once; SPOOR_* set by the
# caller win). A cluster of collectors must share its hash key.
write_env() {
  mkdir -p "$DIR" "$PIDS" "$LOGS"
  [ -f "$DIR/hash.key" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/hash.key"
  cat > "$DIR/spoor.env" <<EOF
export SPOOR_NATS_URL='$(nats_urls)'
export SPOOR_NATS_REPLICAS='3'
export SPOOR_NATS_PARTITIONS='${PARTITIONS:-3}'
export SPOOR_COLLECTOR_HASH_KEY='$(cat "$DIR/hash.key")'
export SPOOR_CASSANDRA_HOSTS='$(member_ip cass1),$(member_ip cass2),$(member_ip cass3)'
export SPOOR_CASSANDRA_PORT='$CQL_PORT'
export SPOOR_CASSANDRA_KEYSPACE='spoor'
export SPOOR_CASSANDRA_REPLICATION="{'class': 'NetworkTopologyStrategy', 'datacenter1': 3}"
export SPOOR_CASSANDRA_CONSISTENCY='local_quorum'
export SPOOR_CASSANDRA_LOCAL_DC='datacenter1'
export SPOOR_CASSANDRA_APPLY_SCHEMA='false'
export SPOOR_SINK_ACK_WAIT='30s'
export SPOOR_HTTP_SHUTDOWN_DELAY='2s'
export SPOOR_LOG_FORMAT='json'
export SPOOR_LOG_LEVEL='info'
export CLUSTER_NETNS='${CLUSTER_NETNS:-}'
export CLUSTER_COLLECTORS='$(collector_urls)'
export CLUSTER_DIR='$DIR'
EOF
  env | grep -E '^SPOOR_' | sed -e "s/'/'\\\\''/g" -e "s/=\(.*\)/='\1'/" -e 's/^/export /' >> "$DIR/spoor.env" || true
}

build() {
  mkdir -p "$(dirname "$NATS_BIN")" "$(dirname "$SPOOR_BIN")"
  (cd "$ROOT" && go build -o "$SPOOR_BIN" ./cmd/spoor)
  # The real server, at the version go.mod pins (the one spoor embeds).
  (cd "$ROOT" && go build -o "$NATS_BIN" github.com/nats-io/nats-server/v2)
}

cass() { # cass N ACTION: scripts/cassandra.sh for node N
  local n=$1; shift
  CASSANDRA_DIR="$DIR/cass$n" CASSANDRA_HOST="$(member_ip "cass$n")" SPOOR_CASSANDRA_PORT=$CQL_PORT \
    CASSANDRA_STORAGE_PORT=$CASS_STORAGE_PORT CASSANDRA_CLUSTER=spoor-cluster \
    CASSANDRA_SEEDS="$(member_ip cass1):$CASS_STORAGE_PORT,$(member_ip cass2):$CASS_STORAGE_PORT,$(member_ip cass3):$CASS_STORAGE_PORT" \
    CASSANDRA_TOKEN="${TOKENS[$((n - 1))]}" CASSANDRA_HINTS=true CASSANDRA_HEAP=$CASS_HEAP \
    inns "cass$n" bash "$ROOT/scripts/cassandra.sh" "$@"
}

up() {
  local m=$1 n=${1: -1}
  case $m in
    nats[123])
      if running "$PIDS/$m.pid"; then return 0; fi
      local routes=() j ip extra=() pre=()
      ip=$(member_ip "$m")
      for j in 1 2 3; do [ "$j" = "$n" ] || routes+=("nats://$(member_ip "nats$j"):$(nats_route "$j")"); done
      if netns_on; then extra=(--no_advertise=true) pre=(ip netns exec "spoor-$m"); fi
      mkdir -p "$DIR/$m"
      # exec: the pid file must name the server itself (ip netns exec execs it in turn).
      (exec "${pre[@]}" "$NATS_BIN" -js -sd "$DIR/$m" -n "$m" -a "$ip" -p "$(nats_port "$n")" -m "$(nats_monitor "$n")" \
        --cluster_name spoor --cluster "nats://$ip:$(nats_route "$n")" --routes "$(IFS=,; echo "${routes[*]}")" "${extra[@]}" \
        >> "$LOGS/$m.log" 2>&1) &
      echo $! > "$PIDS/$m.pid"
      wait_port "$ip" "$(nats_port "$n")" 30 "$PIDS/$m.pid" || { say "$m did not start:"; tail -20 "$LOGS/$m.log" >&2; return 1; }
      ;;
    cass[123]) cass "$n" start ;;
    kafka) KAFKA_DIR="$DIR/kafka" SPOOR_KAFKA_PORT=$KAFKA_PORT bash "$ROOT/scripts/kafka.sh" start ;;
    dest1)
      if running "$PIDS/$m.pid"; then return 0; fi
      mkdir -p "$DIR/$m"
      # Shorter retries than the default 10 s to 5 min, so that a fault's drain is minutes, not hours.
      local dests='[{"name":"hooks","type":"webhook","url":"http://'$RECEIVER'/in","min_backoff":"1s","max_backoff":"10s",
        "filter":{"exclude_bots":false}},{"name":"stream","type":"kafka","brokers":["127.0.0.1:'$KAFKA_PORT'"],"topic":"spoor-faults",
        "min_backoff":"1s","max_backoff":"10s","filter":{"exclude_bots":false}}]'
      (. "$DIR/spoor.env"; SPOOR_DATA_DIR="$DIR/$m" SPOOR_HTTP_ADDR="127.0.0.1:18193" SPOOR_SINK_RUN=destinations \
        SPOOR_DESTINATIONS="$dests" exec "$SPOOR_BIN" -config "$ROOT/config.json" sink >> "$LOGS/$m.log" 2>&1) &
      echo $! > "$PIDS/$m.pid"
      wait_port 127.0.0.1 18193 120 "$PIDS/$m.pid" || { say "$m did not start:"; tail -20 "$LOGS/$m.log" >&2; return 1; }
      ;;
    collector[12] | sink[12])
      if running "$PIDS/$m.pid"; then return 0; fi
      local role=${m%[12]} ip pre=() nats
      ip=$(member_ip "$m") nats=$(nats_urls)
      mkdir -p "$DIR/$m"
      if netns_on; then
        pre=(ip netns exec "spoor-$m")
        if [ "$role" = collector ]; then spool_mount "$m"; nats=$(toxi_urls); fi
      fi
      # shellcheck disable=SC1091
      local port; port=$(collector_port "$n"); [ "$role" = sink ] && port=$(sink_port "$n")
      (. "$DIR/spoor.env"; export SPOOR_DATA_DIR="$DIR/$m" SPOOR_HTTP_ADDR="$ip:$port" SPOOR_NATS_URL="$nats"
        # shellcheck disable=SC2086 # CLUSTER_SPOOR_FLAGS: extra flags for this start (e.g. -clock-offset 10m)
        exec "${pre[@]}" "$SPOOR_BIN" ${CLUSTER_SPOOR_FLAGS:-} -config "$ROOT/config.json" "$role" >> "$LOGS/$m.log" 2>&1) &
      echo $! > "$PIDS/$m.pid"
      wait_port "$ip" "$port" 120 "$PIDS/$m.pid" || { say "$m did not start:"; tail -20 "$LOGS/$m.log" >&2; return 1; }
      ;;
    *) say "unknown member $m"; return 2 ;;
  esac
}

down() {
  local m=$1 sig=${2:-TERM}
  case $m in
    cass[123]) if [ "$sig" = KILL ]; then cass "${m: -1}" kill; else cass "${m: -1}" stop; fi ;;
    nats[123] | collector[12] | sink[12] | dest1) stop_pidfile "$PIDS/$m.pid" 60 "$sig" ;;
    kafka) KAFKA_DIR="$DIR/kafka" SPOOR_KAFKA_PORT=$KAFKA_PORT bash "$ROOT/scripts/kafka.sh" "$([ "$sig" = KILL ] && echo kill || echo stop)" ;;
    *) say "unknown member $m"; return 2 ;;
  esac
}

start() {
  write_env
  say "building spoor and nats-server"
  build
  local n
  if netns_on; then
    if [ "${CLUSTER_DESTINATIONS:-}" = 1 ]; then say "CLUSTER_NETNS=1 runs without destinations"; return 2; fi
    say "the cluster's network: namespaces on bridge $BRIDGE ($NET.0/24), toxiproxy on $TOXI_API"
    toxi_build
    net_up
  fi
  say "starting NATS (client ports $(nats_port 1)-$(nats_port 3)) and Cassandra ($(member_ip cass1)-3:$CQL_PORT)"
  for n in 1 2 3; do CASSANDRA_NO_WAIT=1 cass "$n" start; done
  for n in 1 2 3; do up "nats$n" & done
  wait
  if netns_on; then toxi_up; fi
  for n in 1 2 3; do cass "$n" wait; done
  say "applying the schema (NetworkTopologyStrategy, RF 3)"
  # shellcheck disable=SC1091
  (. "$DIR/spoor.env"; for try in 1 2 3 4 5 6; do
     "$SPOOR_BIN" -config "$ROOT/config.json" schema apply >> "$LOGS/schema.log" 2>&1 && exit 0
     sleep 5
   done; exit 1) || { say "schema apply failed:"; tail -20 "$LOGS/schema.log" >&2; return 1; }
  for m in sink1 sink2 collector1 collector2; do up "$m"; done
  if [ "${CLUSTER_DESTINATIONS:-}" = 1 ]; then up kafka; up dest1; fi
  for n in 1 2; do
    for _ in $(seq 120); do curl -fs "http://$(member_ip "collector$n"):$(collector_port "$n")/readyz" >/dev/null && break; sleep 0.5; done
  done
  status
}

stop() {
  local m n
  for m in collector1 collector2 dest1 sink1 sink2 nats1 nats2 nats3; do
    [ -f "$PIDS/$m.pid" ] && down "$m" TERM
  done
  [ -d "$DIR/kafka" ] && down kafka TERM
  for n in 1 2 3; do [ -d "$DIR/cass$n" ] && cass "$n" stop; done
  if netns_on; then stop_pidfile "$PIDS/toxiproxy.pid" 10; net_down; fi
  say "stopped (data kept in $DIR; remove it for a fresh cluster)"
}

status() {
  local m n addr state
  printf '%-11s %-8s %-22s %s\n' member pid address state
  for m in nats1 nats2 nats3 cass1 cass2 cass3 collector1 collector2 sink1 sink2; do
    n=${m: -1}
    case $m in
      nats*) addr="$(member_ip "$m"):$(nats_port "$n")"; pidf=$PIDS/$m.pid ;;
      cass*) addr="$(member_ip "$m"):$CQL_PORT"; pidf=$DIR/cass$n/cassandra.pid ;;
      collector*) addr="$(member_ip "$m"):$(collector_port "$n")"; pidf=$PIDS/$m.pid ;;
      sink*) addr="$(member_ip "$m"):$(sink_port "$n")"; pidf=$PIDS/$m.pid ;;
    esac
    if running "$pidf"; then
      state=running
      if [ "$addr" != - ] && ! port_open "${addr%:*}" "${addr#*:}"; then state="running, not answering"; fi
      printf '%-11s %-8s %-22s %s\n' "$m" "$(cat "$pidf")" "$addr" "$state"
    else
      printf '%-11s %-8s %-22s %s\n' "$m" - "$addr" stopped
    fi
  done
  for n in 1 2 3; do
    if port_open "$(member_ip "nats$n")" "$(nats_monitor "$n")"; then
      curl -fs "http://$(member_ip "nats$n"):$(nats_monitor "$n")/jsz?streams=true&consumers=true" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("JetStream meta leader: %s (streams as node %s sees them)" % ((d.get("meta_cluster") or {}).get("leader", "?"), d.get("server_name", "?")))
for a in d.get("account_details") or []:
    for s in sorted(a.get("stream_detail") or [], key=lambda s: s["name"]):
        c = s.get("cluster") or {}
        reps = ", ".join(r["name"] + ("" if r.get("current") else " (behind)") for r in c.get("replicas") or [])
        pend = sum(x.get("num_pending", 0) + x.get("num_ack_pending", 0) for x in s.get("consumer_detail") or [])
        print("  %-16s leader %-6s replicas [%s]  msgs %d  consumer backlog %d" % (s["name"], c.get("leader", "-"), reps, s["state"]["messages"], pend))
' || true
      break
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  load) shift; write_env; . "$DIR/spoor.env"; cd "$ROOT" && go run ./scripts/faults -faults none -collectors "$CLUSTER_COLLECTORS" "$@" ;;
  net) shift; net_cmd "$@" ;;
  up) write_env; up "$2" ;;
  down) down "$2" "${3:-TERM}" ;;
  env) write_env; cat "$DIR/spoor.env" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
