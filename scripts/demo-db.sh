#!/usr/bin/env bash
# `make demo-db`: etcd, a three-member Patroni cluster of PostgreSQL 15 (data under
# /tmp/ballast-demo-db, loopback ports) and ballast's writer (127.0.0.1:6432) and reader
# (127.0.0.1:6433) endpoints in front of it (examples/databases/), until Ctrl-C.
# PostgreSQL does not run as root: each Patroni runs as the postgres user.
set -euo pipefail

BALLAST=${1:-build/ballast}
HERE=$(cd "$(dirname "$0")/.." && pwd)
DIR=/tmp/ballast-demo-db
ETCD=http://127.0.0.1:2379

if [ "$(id -u)" -ne 0 ]; then
  echo "demo-db: run as root (each Patroni is started as the postgres user)" >&2
  exit 1
fi
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in 2379 2380 9901 6432 6433 15431 15432 15433 18001 18002 18003; do
  if port_busy "$p"; then
    echo "demo-db: 127.0.0.1:$p is already in use; stop whatever holds it and try again" >&2
    exit 1
  fi
done

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # A PostgreSQL whose Patroni was killed in a drill runs on: stop it too.
  for pidfile in "$DIR"/pg*/postmaster.pid; do
    [ -f "$pidfile" ] && kill -9 "$(head -1 "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$DIR"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

rm -rf "$DIR"
mkdir -p "$DIR"
etcd --name demo --data-dir "$DIR/etcd" --listen-client-urls "$ETCD" \
  --advertise-client-urls "$ETCD" --listen-peer-urls http://127.0.0.1:2380 \
  --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster demo=http://127.0.0.1:2380 --log-level warn >"$DIR/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  if ETCDCTL_API=3 etcdctl --endpoints="$ETCD" endpoint health >/dev/null 2>&1; then break; fi
  sleep 0.2
done

for n in 1 2 3; do
  sed -e "s|@NAME@|pg$n|g" -e "s|@PG_PORT@|1543$n|g" -e "s|@REST_PORT@|1800$n|g" \
    -e "s|@DIR@|$DIR|g" "$HERE/examples/databases/patroni.yml.in" >"$DIR/pg$n.yml"
done
chown -R postgres:postgres "$DIR"
chmod 755 "$DIR"
for n in 1 2 3; do
  setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
    patroni "$DIR/pg$n.yml" >"$DIR/pg$n.log" 2>&1 &
  pids+=($!)
  sleep 0.5
done
echo "demo-db: waiting for Patroni to bootstrap pg1 and clone pg2 and pg3..."
for _ in $(seq 1 120); do
  ok=0
  for n in 1 2 3; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:1800$n/health" || true)
    [ "$code" = 200 ] && ok=$((ok + 1))
  done
  [ "$ok" = 3 ] && break
  sleep 0.5
done

"$BALLAST" run -c "$HERE/examples/databases/ballast.yaml" >"$DIR/ballast.log" 2>&1 &
pids+=($!)
sleep 1
"$BALLAST" ctl db || true

cat <<MSG

  ballast database demo: Patroni cluster "main" (pg1, pg2, pg3 on 127.0.0.1:15431-15433,
  their REST APIs on 18001-18003, etcd on 2379), ballast's writer endpoint on
  127.0.0.1:6432 and reader endpoint on 127.0.0.1:6433. Dashboard: http://127.0.0.1:9901/
  Logs: $DIR/ballast.log, $DIR/pgN.log

  Try, from another terminal:
    psql -h 127.0.0.1 -p 6432 -U postgres -c 'select inet_server_port(), pg_is_in_recovery()'
    psql -h 127.0.0.1 -p 6433 -U postgres -c 'select inet_server_port(), pg_is_in_recovery()'
    $BALLAST ctl db                               # roles, lag, endpoints, role changes
    # A failover drill: kill the primary's Patroni and PostgreSQL (say it is pg1).
    kill -9 \$(pgrep -f 'patroni $DIR/pg1.yml') \$(head -1 $DIR/pg1/postmaster.pid)
    $BALLAST ctl db                               # about 10 s later: a new primary
    # A planned switchover: new writer connections wait instead of failing.
    $BALLAST ctl db switchover main

  Ctrl-C stops ballast, Patroni, PostgreSQL and etcd, and removes $DIR.

MSG
wait "${pids[0]}"
