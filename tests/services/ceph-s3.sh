#!/usr/bin/env bash
# A throwaway single-node Ceph on 127.0.0.1 (monitor, in-memory OSD, radosgw) so that the tests speak to a real S3
# implementation. Debian packages: radosgw ceph-mon ceph-osd ceph-common. No systemd, no cephx; everything, logs
# included, lives in DIR, and the ports are the caller's choice so that parallel runs do not collide.
#   ceph-s3.sh start DIR RGW_PORT MON_PORT   prints the endpoint; S3 keys: $S3_ACCESS_KEY/$S3_SECRET_KEY (test/testtest)
#   ceph-s3.sh stop DIR                      stops every daemon of DIR's cluster; safe to repeat
set -euo pipefail

stop() {
  local dir=$1 pids
  # pid files, and whatever still names this cluster's conf (a daemon killed before it wrote its pid file)
  pids=$( (cat "$dir"/run/*.pid 2>/dev/null; pgrep -f -- "-c $dir/ceph.conf" || true) | sort -u)
  rm -f "$dir"/run/*.pid  # a second stop must not signal a process that reused a pid
  [ -n "$pids" ] || return 0
  kill -9 $pids 2>/dev/null || true  # nothing to save: the OSD keeps its data in memory
  for _ in $(seq 50); do kill -0 $pids 2>/dev/null || return 0; sleep 0.1; done
  echo "ceph-s3: still running after SIGKILL: $pids" >&2; return 1
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll until COMMAND succeeds
  local limit=$1 what=$2 deadline=$((SECONDS + $1)); shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "ceph-s3: $what not ready after ${limit}s; logs in $dir/log" >&2; return 1; }
    sleep 0.2
  done
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  dir=$1  # global: wait_for names it in its message
  local rgw_port=$2 mon_port=$3 fsid osd_uuid id
  mkdir -p "$dir"/{run,log,mon.a,osd.0,rgw}
  trap 'echo "ceph-s3: start failed; logs in $dir/log" >&2; stop "$dir"' ERR
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$mon_port
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon allow pool size one = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.pid
keyring = $dir/keyring
[mon]
mon data = $dir/mon.\$id
mon cluster log file = $dir/log/cluster.log
mon warn on pool no redundancy = false
mon data avail crit = 0
[osd]
osd data = $dir/osd.\$id
osd objectstore = memstore
memstore device bytes = 2147483648
osd max object name len = 460
osd max object namespace len = 64
# The OSD would place itself in the CRUSH map with a mon command sent before it knows the cluster's fsid, which
# the monitor now and then refuses ("wrong fsid") and the OSD dies; "start" places it instead.
osd crush update on start = false
osd class update on start = false
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $dir/rgw
rgw zone = default
CONF
  local c=(-c "$dir/ceph.conf")
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$dir/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon "${c[@]}" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
  ceph-mon "${c[@]}" -i a
  wait_for 30 monitor timeout 5 ceph "${c[@]}" mon stat
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(timeout 30 ceph "${c[@]}" osd new "$osd_uuid")
  timeout 30 ceph "${c[@]}" osd crush add "osd.$id" 1 root=default 2>/dev/null
  ceph-osd "${c[@]}" -i "$id" --mkfs --osd-uuid "$osd_uuid" 2>>"$dir/log/osd-mkfs.log"
  ceph-osd "${c[@]}" -i "$id" 2>>"$dir/log/osd-start.log"
  wait_for 60 OSD bash -c "timeout 5 ceph -c '$dir/ceph.conf' osd stat | grep -q '1 up'"
  radosgw "${c[@]}" -n client.rgw
  wait_for 60 radosgw listening "$rgw_port"
  timeout 30 radosgw-admin "${c[@]}" user create --uid=test --display-name=test \
    --access-key="${S3_ACCESS_KEY:-test}" --secret-key="${S3_SECRET_KEY:-testtest}" >/dev/null
  echo "http://127.0.0.1:$rgw_port"
}

case ${1:-} in
  start) [ $# = 4 ] || { echo "usage: $0 start DIR RGW_PORT MON_PORT" >&2; exit 2; }; start "$2" "$3" "$4" ;;
  stop) [ $# = 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 start DIR RGW_PORT MON_PORT | stop DIR" >&2; exit 2 ;;
esac
