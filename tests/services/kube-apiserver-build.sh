#!/usr/bin/env bash
# Builds a real kube-apiserver from Debian's `kubernetes` source package (v1.20, all Go dependencies vendored, so no
# Go module proxy is needed) and caches the binary by version under ~/.cache. About 5 minutes on 2 cores, once per
# machine. The tests run it on 127.0.0.1 with etcd to validate and create the pods the DAG renders.
# Usage: tests/services/kube-apiserver-build.sh   → prints the binary's path (also installs etcd, openssl, curl,
# which tests/services/kube-apiserver.sh needs to run it)
set -euo pipefail
out=${KUBE_APISERVER_CACHE:-$HOME/.cache/whisper-airflow/kube-apiserver-1.20}
if [ -x "$out/kube-apiserver" ]; then echo "$out/kube-apiserver"; exit 0; fi
sudo=$([ "$(id -u)" = 0 ] || echo sudo)
apt() { DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 "$@"; }
for tool in go etcd rsync openssl curl; do command -v "$tool" >/dev/null || missing=1; done
[ -z "${missing:-}" ] || apt install -y -qq --no-install-recommends golang-go rsync etcd-server openssl curl >/dev/null
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  for f in /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && $sudo sed -i 's/^Types: deb$/Types: deb deb-src/' "$f"; done
  apt update -qq >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only kubernetes >/dev/null 2>&1
tar xzf kubernetes_*.orig.tar.gz
cd kubernetes-*/
CGO_ENABLED=0 GOFLAGS=-mod=vendor make WHAT=cmd/kube-apiserver >/dev/null
mkdir -p "$out"
cp _output/bin/kube-apiserver "$out/"
echo "$out/kube-apiserver"
