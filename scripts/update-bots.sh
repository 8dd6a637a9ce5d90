#!/usr/bin/env bash
# Refreshes the crawler list the bot flag matches (internal/bots/crawler-user-agents.json) from
# monperrus/crawler-user-agents (MIT), published on npm. Pinned: pass the version to move to, run the
# tests (every listed instance must still be flagged, known browsers must not), commit.
#   bash scripts/update-bots.sh 1.60.0
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:?usage: update-bots.sh VERSION}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
(cd "$T" && npm pack "crawler-user-agents@$V" >/dev/null && tar xzf "crawler-user-agents-$V.tgz")
cp "$T/package/crawler-user-agents.json" internal/bots/crawler-user-agents.json
cp "$T/package/LICENSE" internal/bots/LICENSE.crawler-user-agents
sed -i "s/^const ListVersion = .*/const ListVersion = \"$V\"/" internal/bots/bots.go
go test ./internal/bots
