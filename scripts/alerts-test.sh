#!/usr/bin/env bash
# Checks spoor's Prometheus alert rules (deploy/prometheus/alerts.yml) and runs their unit tests
# (alerts_test.yml) with the real promtool, built from the Prometheus Go module into .cache/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
version=v0.316.0 # Prometheus v3.16.0
bin=.cache/bin/promtool
if [ ! -x "$bin" ] || [ "$(cat .cache/bin/promtool.version 2>/dev/null)" != "$version" ]; then
  say "building promtool $version from its Go module"
  GOBIN="$PWD/.cache/bin" go install "github.com/prometheus/prometheus/cmd/promtool@$version"
  echo "$version" > .cache/bin/promtool.version
fi
cd deploy/prometheus
"../../$bin" check rules alerts.yml
"../../$bin" test rules alerts_test.yml
