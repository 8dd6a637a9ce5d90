#!/usr/bin/env bash
# Refreshes the lists the bot flag matches, both pinned, both MIT:
#   internal/bots/crawler-user-agents.json  monperrus/crawler-user-agents, from npm
#   internal/bots/crawlerdetect.json        JayBizzle/Crawler-Detect's patterns and exclusions, from
#                                           its Python port on PyPI (crawlerdetect)
# Pass the versions to move to, run the tests (every listed instance still flagged, the corpora's
# browsers still not: scripts/bots-corpus.sh), commit.
#   bash scripts/update-bots.sh 1.60.0 0.4.2
set -euo pipefail
cd "$(dirname "$0")/.."
V=${1:?usage: update-bots.sh CRAWLER_USER_AGENTS_VERSION CRAWLERDETECT_VERSION}
CD=${2:?usage: update-bots.sh CRAWLER_USER_AGENTS_VERSION CRAWLERDETECT_VERSION}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
(cd "$T" && npm pack "crawler-user-agents@$V" >/dev/null && tar xzf "crawler-user-agents-$V.tgz")
cp "$T/package/crawler-user-agents.json" internal/bots/crawler-user-agents.json
cp "$T/package/LICENSE" internal/bots/LICENSE.crawler-user-agents
sed -i "s/^const ListVersion = .*/const ListVersion = \"$V\"/" internal/bots/bots.go
python3 -m pip download -q --no-deps --only-binary :all: -d "$T/cd" "crawlerdetect==$CD"
(cd "$T/cd" && python3 -m zipfile -e crawlerdetect-"$CD"-*.whl .)
PYTHONPATH="$T/cd" python3 - "$CD" > internal/bots/crawlerdetect.json <<'PY'
import json, sys
from crawlerdetect.providers import crawlers, exclusions
json.dump({"version": sys.argv[1], "crawlers": crawlers.data, "exclusions": exclusions.data}, sys.stdout, indent=0)
PY
cp "$T"/cd/crawlerdetect-"$CD".dist-info/licenses/LICENSE internal/bots/LICENSE.crawlerdetect
go test ./internal/bots
