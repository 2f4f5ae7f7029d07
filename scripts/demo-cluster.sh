#!/usr/bin/env bash
# `make demo-cluster`: etcd and three ballast nodes on loopback addresses sharing one
# configuration (examples/cluster/), until Ctrl-C. Node lb-N listens on 127.0.0.1N:8080 and
# has its dashboard on http://127.0.0.1:990N/.
set -euo pipefail

BALLAST=${1:-build/ballast}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ballast-demo-cluster-etcd.XXXXXX)
STATE=/tmp/ballast-demo-cluster
ETCD=http://127.0.0.1:2379

port_busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
for hp in 127.0.0.1:2379 127.0.0.1:2380 127.0.0.1:9901 127.0.0.1:9902 127.0.0.1:9903 \
          127.0.0.11:8080 127.0.0.12:8080 127.0.0.13:8080; do
  if port_busy "${hp%:*}" "${hp#*:}"; then
    echo "demo-cluster: $hp is already in use; stop whatever holds it and try again" >&2
    exit 1
  fi
done

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

etcd --name demo --data-dir "$WORK/etcd" --listen-client-urls "$ETCD" \
  --advertise-client-urls "$ETCD" --listen-peer-urls http://127.0.0.1:2380 \
  --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster demo=http://127.0.0.1:2380 --log-level warn >"$WORK/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  if ETCDCTL_API=3 etcdctl --endpoints="$ETCD" endpoint health >/dev/null 2>&1; then break; fi
  sleep 0.2
done

rm -rf "$STATE"
"$BALLAST" cluster import -c "$HERE/examples/cluster/shared.yaml" --etcd "$ETCD" \
  --prefix /ballast-demo
for n in 1 2 3; do
  "$BALLAST" run -c "$HERE/examples/cluster/node-$n.yaml" >"$WORK/lb-$n.log" 2>&1 &
  pids+=($!)
done
sleep 1

cat <<MSG

  ballast cluster demo: etcd on 127.0.0.1:2379 and nodes lb-1, lb-2, lb-3, sharing
  examples/cluster/shared.yaml (imported under /ballast-demo). One node leads the
  autoscaler; its instances serve the traffic of all three.

  Dashboards: http://127.0.0.1:9901/  http://127.0.0.1:9902/  http://127.0.0.1:9903/
  Logs:       $WORK/lb-N.log

  Try, from another terminal:
    curl -i http://127.0.0.11:8080/  ;  curl -i http://127.0.0.12:8080/
    $BALLAST ctl --admin 127.0.0.1:9902 cluster           # nodes, leader, etcd
    # A target registered through one node is served by all three:
    $BALLAST backend --port 9300 --id extra &
    $BALLAST ctl --admin 127.0.0.1:9903 register app 127.0.0.1:9300
    # Kill the leader: another node leads within about 6 s and keeps the group's capacity.
    kill -9 \$(pgrep -f 'node-1.yaml' | head -1)          # (if lb-1 leads; see ctl cluster)
    # etcd down: every node keeps serving from its snapshot; changes answer 503 until it returns.

  Ctrl-C stops the nodes (each hands over its leadership at once) and etcd.

MSG
wait "${pids[0]}"
