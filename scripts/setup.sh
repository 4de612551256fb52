#!/usr/bin/env bash
# Installs what the project needs, idempotently: ffmpeg and espeak-ng from Debian, then a virtualenv (.venv) with
# the pinned requirements and this project. Re-running costs a few seconds; pip's downloads are cached in ~/.cache.
# Usage: scripts/setup.sh [requirements file]   (default requirements.txt; the tests use requirements-test.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}

missing=()
for tool in ffmpeg espeak-ng; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  echo "setup: installing ${missing[*]} (apt)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: needs Python >= 3.11" >&2; exit 1; }
stamp=".venv/.installed-$(cat "$requirements" requirements.txt constraints.txt pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing $requirements into .venv (first time: about 2 minutes)"
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -U pip setuptools wheel
  .venv/bin/pip install -q --disable-pip-version-check -r "$requirements" -c constraints.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .venv/.installed-*
  touch "$stamp"
fi
