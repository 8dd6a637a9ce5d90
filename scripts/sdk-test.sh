#!/usr/bin/env bash
# Runs the browser SDK's tests: the build check, node's unit tests, and the
# browser tests in Debian's headless Chromium against the real spoor binary.
# Installs what is missing (Chromium from Debian when run as root, the npm
# packages from package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "sdk-test: installing Debian's chromium" >&2
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	else
		echo "sdk-test: $chromium not found; install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH" >&2
		exit 1
	fi
fi

go build -o bin/spoor ./cmd/spoor
cd sdk/js
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
SPOOR_BIN="$PWD/../../bin/spoor" CHROMIUM_PATH="$chromium" npm test --silent
