#!/usr/bin/env bash
# The cluster's own network (CLUSTER_NETNS=1, sourced by scripts/cluster.sh):
# every member in a network namespace of its own (spoor-MEMBER), joined by a
# veth pair to one bridge (spoorbr0) whose address, 10.77.0.1, is this
# namespace's way in (the fault runner, toxiproxy). Addresses exist only
# inside these namespaces and on the bridge:
#   nats1-3 10.77.0.11-13   cass1-3 10.77.0.21-23   collector1-2 10.77.0.31-32   sink1-2 10.77.0.41-42
# Collectors reach NATS through toxiproxy (built from its Go module, listening
# on 10.77.0.1:25222-25224), so latency and a silent link can be put between
# them; the servers do not advertise their addresses to clients (--no_advertise),
# so a client stays on the path it was given. Links are cut with nftables rules
# inside a member's namespace (dropped, never refused: a partition is silent),
# and torn with resets the same way.
#
#   cluster.sh net up | down                        make / remove the namespaces and the bridge
#   cluster.sh net cut MEMBER PEER...               drop MEMBER's traffic with each PEER, both ways
#   cluster.sh net isolate MEMBER                   drop all of MEMBER's traffic
#   cluster.sh net reset MEMBER PORT PERCENT        answer PERCENT% of MEMBER's packets to PORT with a TCP reset
#   cluster.sh net heal [MEMBER...]                 remove those rules (every member's by default)
#   cluster.sh net toxic NAME TYPE [ATTR=VAL...]    add a toxic to every collector→NATS proxy, both ways (toxiproxy types)
#   cluster.sh net untoxic NAME                     remove it
#   cluster.sh net spool MEMBER SIZE                resize a collector's spool filesystem (tmpfs; e.g. 12m, 1g)
NET=10.77.0 BRIDGE=spoorbr0
TOXI_BIN=$ROOT/.cache/bin/toxiproxy TOXI_VERSION=v2.5.0 TOXI_API=$NET.1:28474
NET_MEMBERS=(nats1 nats2 nats3 cass1 cass2 cass3 collector1 collector2 sink1 sink2)

netns_on() { [ "${CLUSTER_NETNS:-}" = 1 ]; }

# member_ip MEMBER: where it listens (loopback addresses without CLUSTER_NETNS).
member_ip() {
  local n=${1: -1}
  if ! netns_on; then case $1 in cass*) echo "127.0.0.$n" ;; *) echo 127.0.0.1 ;; esac; return; fi
  case $1 in
    nats*) echo "$NET.1$n" ;; cass*) echo "$NET.2$n" ;; collector*) echo "$NET.3$n" ;; sink*) echo "$NET.4$n" ;;
    *) echo "$NET.1" ;;
  esac
}

# inns MEMBER CMD...: run CMD in MEMBER's namespace (here without CLUSTER_NETNS).
inns() {
  local m=$1; shift
  if netns_on; then ip netns exec "spoor-$m" "$@"; else "$@"; fi
}

net_up() {
  # The faults cut links with nft: Debian's nftables, installed on a machine that lacks it.
  command -v nft >/dev/null || { apt-get update -q && apt-get install -y -q nftables; } >&2
  ip link show "$BRIDGE" >/dev/null 2>&1 || { ip link add "$BRIDGE" type bridge && ip addr add "$NET.1/24" dev "$BRIDGE"; }
  ip link set "$BRIDGE" up
  local m
  for m in "${NET_MEMBERS[@]}"; do
    ip netns list | grep -qw "spoor-$m" && continue
    ip netns add "spoor-$m"
    ip link add "vh-$m" type veth peer name eth0 netns "spoor-$m"
    ip link set "vh-$m" master "$BRIDGE" up
    ip -n "spoor-$m" addr add "$(member_ip "$m")/24" dev eth0
    ip -n "spoor-$m" link set eth0 up
    ip -n "spoor-$m" link set lo up
  done
}

net_down() {
  local m
  for m in "${NET_MEMBERS[@]}"; do
    mountpoint -q "$DIR/$m/spool" 2>/dev/null && umount -l "$DIR/$m/spool"
    ip netns list | grep -qw "spoor-$m" && ip netns del "spoor-$m"
    ip link del "vh-$m" 2>/dev/null || true
  done
  ip link del "$BRIDGE" 2>/dev/null || true
}

# nft_member MEMBER RULES: load RULES into MEMBER's table inet spoorfault.
nft_member() {
  local m=$1 rules=$2
  ip netns exec "spoor-$m" nft -f - <<EOF
table inet spoorfault {
  chain in { type filter hook input priority 0; policy accept; }
  chain out { type filter hook output priority 0; policy accept; }
}
$rules
EOF
}

net_cut() {
  local m=$1 p rules=""; shift
  for p in "$@"; do
    rules+="add rule inet spoorfault in ip saddr $(member_ip "$p") drop
add rule inet spoorfault out ip daddr $(member_ip "$p") drop
"
  done
  nft_member "$m" "$rules"
}

net_isolate() {
  nft_member "$1" 'add rule inet spoorfault in iifname != "lo" drop
add rule inet spoorfault out oifname != "lo" drop'
}

net_reset() {
  nft_member "$1" "add rule inet spoorfault out tcp dport $2 numgen random mod 100 < $3 reject with tcp reset"
}

net_heal() {
  local m
  [ $# -gt 0 ] || set -- "${NET_MEMBERS[@]}"
  for m in "$@"; do ip netns exec "spoor-$m" nft delete table inet spoorfault 2>/dev/null || true; done
}

# toxiproxy: one proxy per NATS node for the collectors (nats1 → 10.77.0.1:25222).
toxi_build() {
  [ -x "$TOXI_BIN" ] && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$ROOT" && GOBIN=$tmp go install "github.com/Shopify/toxiproxy/v2/cmd/server@$TOXI_VERSION")
  mv "$tmp/server" "$TOXI_BIN"; rm -rf "$tmp"
}
toxi_port() { echo $((25221 + $1)); }
toxi_up() {
  if ! running "$PIDS/toxiproxy.pid"; then
    LOG_LEVEL=warn "$TOXI_BIN" -host "${TOXI_API%:*}" -port "${TOXI_API#*:}" >> "$LOGS/toxiproxy.log" 2>&1 &
    echo $! > "$PIDS/toxiproxy.pid"
    wait_port "${TOXI_API%:*}" "${TOXI_API#*:}" 30 "$PIDS/toxiproxy.pid" || { say "toxiproxy did not start"; return 1; }
  fi
  local n
  for n in 1 2 3; do
    curl -fs "http://$TOXI_API/proxies/nats$n" >/dev/null 2>&1 && continue
    curl -fs -X POST "http://$TOXI_API/proxies" -d "{\"name\":\"nats$n\",\"listen\":\"$NET.1:$(toxi_port "$n")\",\"upstream\":\"$(member_ip "nats$n"):$(nats_port "$n")\"}" >/dev/null
  done
}
toxi_urls() { echo "nats://$NET.1:$(toxi_port 1),nats://$NET.1:$(toxi_port 2),nats://$NET.1:$(toxi_port 3)"; }

# net_toxic NAME TYPE [ATTR=VAL...]: on every proxy, both ways (NAME-downstream: what NATS sends the
# collector; NAME-upstream: what the collector sends NATS).
net_toxic() {
  local name=$1 type=$2 attrs="" kv n dir; shift 2
  for kv in "$@"; do attrs+="${attrs:+,}\"${kv%%=*}\":${kv#*=}"; done
  for n in 1 2 3; do
    for dir in downstream upstream; do
      curl -fs -X POST "http://$TOXI_API/proxies/nats$n/toxics" \
        -d "{\"name\":\"$name-$dir\",\"type\":\"$type\",\"stream\":\"$dir\",\"toxicity\":1,\"attributes\":{$attrs}}" >/dev/null
    done
  done
}
net_untoxic() {
  local n dir
  for n in 1 2 3; do
    for dir in downstream upstream; do curl -fs -X DELETE "http://$TOXI_API/proxies/nats$n/toxics/$1-$dir" >/dev/null || true; done
  done
}

# A collector's spool on a filesystem of its own, so that it can fill.
spool_mount() {
  local d=$DIR/$1/spool
  mkdir -p "$d"
  mountpoint -q "$d" || mount -t tmpfs -o size=1g "spool-$1" "$d"
}
net_spool() { mount -o "remount,size=$2" "$DIR/$1/spool"; }

net_cmd() {
  local what=${1:-}; shift || true
  case $what in
    up) net_up ;;
    down) net_down ;;
    cut) net_cut "$@" ;;
    isolate) net_isolate "$1" ;;
    reset) net_reset "$1" "$2" "$3" ;;
    heal) net_heal "$@" ;;
    toxic) net_toxic "$@" ;;
    untoxic) net_untoxic "$1" ;;
    spool) net_spool "$1" "$2" ;;
    *) sed -n '15,23p' "$ROOT/scripts/clusternet.sh" | sed 's/^# \{0,1\}//'; return 2 ;;
  esac
}
