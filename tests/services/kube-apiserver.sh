#!/usr/bin/env bash
# etcd + a real kube-apiserver on 127.0.0.1, for tests: no scheduler, no kubelet (the tests play the kubelet).
# Usage: kube-apiserver.sh start DIR APISERVER_BINARY PORT ETCD_PORT   → writes DIR/kubeconfig
#        kube-apiserver.sh stop DIR
set -euo pipefail
cmd=$1 dir=$2
if [ "$cmd" = stop ]; then
  for name in apiserver etcd; do
    [ -f "$dir/$name.pid" ] && kill "$(cat "$dir/$name.pid")" 2>/dev/null || true
  done
  exit 0
fi
binary=$3 port=$4 etcd_port=$5
mkdir -p "$dir/certs" "$dir/log"
openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
token=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token,admin,admin,system:masters" > "$dir/tokens.csv"
etcd --name e0 --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-cluster "e0=http://127.0.0.1:$((etcd_port + 1))" > "$dir/log/etcd.log" 2>&1 &
echo $! > "$dir/etcd.pid"
"$binary" --etcd-servers="http://127.0.0.1:$etcd_port" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
  --secure-port="$port" --insecure-port=0 --cert-dir="$dir/certs" --token-auth-file="$dir/tokens.csv" \
  --authorization-mode=RBAC --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$dir/sa.pub" \
  --service-account-signing-key-file="$dir/sa.key" --disable-admission-plugins=ServiceAccount \
  > "$dir/log/apiserver.log" 2>&1 &
echo $! > "$dir/apiserver.pid"
for _ in $(seq 600); do
  curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -q '^ok' && break
  sleep 0.1
done
curl -sk -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz" | grep -q '^ok' ||
  { echo "kube-apiserver did not become ready; see $dir/log" >&2; exit 1; }
cat > "$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: loopback
  cluster: {server: "https://127.0.0.1:$port", certificate-authority: "$dir/certs/apiserver.crt"}
users:
- name: admin
  user: {token: "$token"}
contexts:
- name: loopback
  context: {cluster: loopback, user: admin}
current-context: loopback
KUBECONFIG
