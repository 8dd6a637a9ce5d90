#!/usr/bin/env bash
# Helpers shared by the scripts that start real servers (cassandra.sh,
# cluster.sh, the benchmarks). Source it; it defines functions only.

# say PREFIX: messages go to stderr, prefixed with the script's name.
say() { echo "${SAY_AS:-$(basename "$0")}: $*" >&2; }

# port_open HOST PORT: exit 0 when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_port HOST PORT SECONDS [PIDFILE]: wait until the port answers; fail
# after SECONDS, or at once when the process of PIDFILE has exited.
wait_port() {
  local host=$1 port=$2 timeout=$3 pidfile=${4:-} start=$SECONDS
  until port_open "$host" "$port"; do
    if [ -n "$pidfile" ] && ! running "$pidfile"; then return 1; fi
    if (( SECONDS - start > timeout )); then return 1; fi
    sleep 0.5
  done
}

# running PIDFILE: exit 0 when the process it names is alive.
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile PIDFILE [SECONDS] [SIGNAL]: send SIGNAL (TERM) and wait up to
# SECONDS (60) for the process to exit, then SIGKILL it. Removes PIDFILE.
stop_pidfile() {
  local pidfile=$1 timeout=${2:-60} sig=${3:-TERM} pid
  if ! running "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq $((timeout * 4))); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}
