#!/usr/bin/env bash
# Installs what the project needs, idempotently: ffmpeg and espeak-ng (and any further packages named) from Debian,
# then a virtualenv (.venv) with the pinned requirements and this project. Re-running costs a few seconds; pip's
# downloads are cached in ~/.cache.
# Usage: scripts/setup.sh [requirements file [apt package...]]   (default requirements.txt; the tests use
#        requirements-test.txt and the packages of the S3 they start: see the Makefile)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}

missing=()
for package in ffmpeg espeak-ng "${@:2}"; do
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  apt=($sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300)  # env: sudo drops variables
  echo "setup: installing ${missing[*]} (apt)"
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
