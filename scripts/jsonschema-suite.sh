#!/usr/bin/env bash
# Fetches the official JSON Schema Test Suite (json-schema-org) into
# .cache/JSON-Schema-Test-Suite (tests/ and remotes/), for plan/suite_test.go:
# the draft 2020-12 required tests, run against the validator as the plans
# configure it. The suite comes from a registry: python-jsonschema's source
# distribution on PyPI carries it (under json/), pinned by its sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

version=4.26.0
sha=0c26707e2efad8aa1bfc5b7ce170f3fccc2e4918ff85989ba9ffa9facb2be326
url=https://files.pythonhosted.org/packages/b3/fc/e067678238fa451312d4c62bf6e6cf5ec56375422aee02f9cb5f909b3047/jsonschema-$version.tar.gz
out=.cache/JSON-Schema-Test-Suite

if [ -f "$out/.from-$version" ]; then
  say "already in $out (from jsonschema $version)"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL --retry 3 -o "$tmp/sdist.tar.gz" "$url"
echo "$sha  $tmp/sdist.tar.gz" | sha256sum -c --quiet -
tar -xzf "$tmp/sdist.tar.gz" -C "$tmp" "jsonschema-$version/json/tests/draft2020-12" "jsonschema-$version/json/remotes"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp/jsonschema-$version/json" "$out"
touch "$out/.from-$version"
say "the JSON Schema Test Suite (draft 2020-12, from jsonschema $version on PyPI) is in $out: $(find "$out/tests" -name '*.json' | wc -l) files"
