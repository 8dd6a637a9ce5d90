#!/usr/bin/env bash
# CPU per request of `spoor run` under single tuplet GETs, one build against another, in alternated
# pairs from fresh starts: the spoor process's CPU time (utime+stime, /proc/PID/stat) over an 8 s
# closed-loop wrk run, divided by the requests answered. Requests per second on these 2 shared cores
# swing ±10% run to run with the scheduling of wrk against spoor; CPU per request does less so, and the
# pairs' median ratio says whether a build costs more (issue 24's A/B of this cell; a bisection).
#   bash scripts/bench/cpu_pairs.sh [BASE [CAND]]     (default 13a7394 against HEAD; PAIRS=9)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
SAY_AS=bench/cpu_pairs
BASE=${1:-13a7394} CAND=${2:-HEAD} PAIRS=${PAIRS:-9}
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
W=.scratch/bench/cpu_pairs
mkdir -p "$W"
build() { # COMMIT: builds it into $W/spoor-<sha> (once) with its own config.json
  local sha; sha=$(git rev-parse --short "$1")
  if [ ! -x "$W/spoor-$sha" ]; then
    git worktree remove --force "$W/src" 2>/dev/null || true
    git worktree add -q --detach "$W/src" "$sha"
    (cd "$W/src" && go build -o "../spoor-$sha" ./cmd/spoor && cp config.json "../config-$sha.json")
    git worktree remove --force "$W/src"
  fi
  echo "$sha"
}
b=$(build "$BASE") c=$(build "$CAND")
TUPLET=/tr/v1/vid/14fb0860-b4bf-11e9-8971-7b80435315ac/ename/click/lat/37.2/first/true/score/6/app/bench
ENV=(SPOOR_LOG_LEVEL=warn SPOOR_HTTP_ADDR=127.0.0.1:18380 SPOOR_NATS_MAX_BYTES=34359738368 SPOOR_PROXY_ENABLED=false)
P=
trap '[ -n "$P" ] && kill $P 2>/dev/null || true' EXIT
one() { # SHA: prints "cpu-us-per-request requests-per-second"
  rm -rf "$W/run"; mkdir -p "$W/run"
  env "${ENV[@]}" SPOOR_DATA_DIR="$W/run/data" "$W/spoor-$1" -config "$W/config-$1.json" run 2> "$W/run/log" & P=$!
  wait_port 127.0.0.1 18380 60 || { cat "$W/run/log" >&2; exit 1; }
  curl -fsS "http://127.0.0.1:18380$TUPLET" -o /dev/null || true
  sleep 2 # start-up's own work done
  local t0 t1 r
  t0=$(awk '{print $14+$15}' /proc/$P/stat)
  r=$(wrk -t2 -c64 -d8s -s scripts/bench/get_tuplet.lua "http://127.0.0.1:18380$TUPLET" | awk '/Requests\/sec/{print $2}')
  t1=$(awk '{print $14+$15}' /proc/$P/stat)
  kill $P; wait $P 2>/dev/null || true; P=
  python3 -c "print(round(($t1-$t0)*1e6/$(getconf CLK_TCK)/($r*8),2), round($r))"
}
ratios=()
for i in $(seq "$PAIRS"); do
  x=$(one "$b") y=$(one "$c")
  ratios+=("$(python3 -c "print(round(${y%% *}/${x%% *},3))")")
  say "pair $i: $b ${x%% *} us/req (${x##* } req/s) | $c ${y%% *} us/req (${y##* } req/s)"
done
say "$c/$b CPU per request: ${ratios[*]}; median $(printf '%s\n' "${ratios[@]}" | sort -g | sed -n "$(((PAIRS + 1) / 2))p")"
