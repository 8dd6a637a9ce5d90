#!/usr/bin/env bash
# Fetches the user agents the bot flag is judged by, none of which it was built from, into
# .cache/bots-corpus/corpus.json (internal/bots/corpus_test.go reads it; make test runs this first):
#   crawlers  Matomo Device Detector's bot fixtures (its Python port on PyPI, device_detector)
#   browsers  real browsers' agents: the user-agents package on npm (from real traffic), and
#             fake-useragent's browser list on PyPI; and, looser, Device Detector's browser fixtures
#             (every browser it knows, ancient and exotic ones too)
# Pinned versions; safe to run twice (does nothing when the corpus is there).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.cache/bots-corpus
[ -s "$OUT/corpus.json" ] && exit 0
DD=6.5.1 FAKE=2.2.0 UA=2.1.198
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
python3 -m pip download -q --no-deps --no-binary :all: -d "$T" "device_detector==$DD"
python3 -m pip download -q --no-deps --only-binary :all: -d "$T" "fake-useragent==$FAKE"
(cd "$T" && npm pack -q "user-agents@$UA" >/dev/null)
(cd "$T" && tar xzf "device_detector-$DD.tar.gz" && tar xzf "user-agents-$UA.tgz" && mkdir fake && cd fake && python3 -m zipfile -e ../fake_useragent-"$FAKE"-*.whl .)
mkdir -p "$OUT"
python3 - "$T" "$DD" "$FAKE" "$UA" > "$OUT/corpus.json.tmp" <<'PY'
import glob, json, sys, yaml
t, dd, fake, ua = sys.argv[1:]
fx = f"{t}/device_detector-{dd}/device_detector/tests/fixtures/upstream/"
crawlers = [d["user_agent"] for d in yaml.safe_load(open(fx + "bots.yml"))]
dd_browsers = set()
for f in [fx + "desktop.yml"] + glob.glob(fx + "smartphone-*.yml") + glob.glob(fx + "tablet-*.yml"):
    for d in yaml.safe_load(open(f)) or []:
        if (d.get("client") or {}).get("type") == "browser":
            dd_browsers.add(d["user_agent"])
real = {x["userAgent"] for x in json.load(open(f"{t}/package/dist/user-agents.json"))}
real |= {json.loads(l)["useragent"] for l in open(f"{t}/fake/fake_useragent/data/browsers.jsonl")}
json.dump({"sources": {"crawlers": f"device_detector {dd} (PyPI) tests/fixtures/upstream/bots.yml",
                       "browsers": f"user-agents {ua} (npm) and fake-useragent {fake} (PyPI)",
                       "device_detector_browsers": f"device_detector {dd} fixtures whose client is a browser"},
           "crawlers": crawlers, "browsers": sorted(real), "device_detector_browsers": sorted(dd_browsers)}, sys.stdout)
PY
mv "$OUT/corpus.json.tmp" "$OUT/corpus.json"
echo "bots-corpus: $OUT/corpus.json" >&2
