#!/usr/bin/env bash
# `make bench-db`: pgbench (select-only and TPC-B-like) straight to a Patroni cluster's
# primary, through ballast's writer endpoint (relayed in the kernel, its default; sent by
# the kernel's NAT, relay: nat; relayed by ballast itself, relay: user) and through HAProxy
# configured as Patroni's documentation recommends, in one run; then the same kill -9 of the
# primary's Patroni and PostgreSQL seen through each. Patroni: ttl 10 s, loop_wait 1 s, retry_timeout 3 s,
# synchronous_mode on. Runs as root (Patroni runs as the postgres user). About 10 minutes.
set -euo pipefail

BALLAST=${1:-build/ballast}
ROUNDS=${ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-8}
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/ballast-bench-db.XXXXXX)
PY=/usr/bin/python3  # Debian's, with psycopg2 (Patroni's dependency)
die() { echo "bench-db: $*" >&2; exit 1; }
source "$HERE/bench/lib.sh"

[ "$(id -u)" -eq 0 ] || die "run as root (each Patroni is started as the postgres user)"
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pidfile in "$WORK"/pg*/postmaster.pid; do
    [ -f "$pidfile" ] && kill -9 "$(head -1 "$pidfile")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap stop_all EXIT

ETCD_PORT=$(free_port); ETCD_PEER=$(free_port)
etcd --name bench --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER" --log-level warn >"$WORK/etcd.log" 2>&1 &
pids+=($!)
wait_port "$ETCD_PORT"

declare -A PG REST AGENT
for n in 1 2 3; do
  PG[$n]=$(free_port); REST[$n]=$(free_port)
  sed -e "s|@NAME@|pg$n|g" -e "s|@PG_PORT@|${PG[$n]}|g" -e "s|@REST_PORT@|${REST[$n]}|g" \
    -e "s|@DIR@|$WORK|g" -e "s|127.0.0.1:2379|127.0.0.1:$ETCD_PORT|" -e "s|^scope: main|scope: bench|" \
    "$HERE/examples/databases/patroni.yml.in" >"$WORK/pg$n.yml"
done
chown -R postgres:postgres "$WORK"; chmod 755 "$WORK"
for n in 1 2 3; do
  setpriv --reuid=postgres --regid=postgres --init-groups --reset-env \
    patroni "$WORK/pg$n.yml" >"$WORK/pg$n.log" 2>&1 &
  pids+=($!); AGENT[$n]=$!
  sleep 0.5
done
primary_member() {
  for n in 1 2 3; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${REST[$n]}/primary")" = 200 ] && { echo "$n"; return; }
  done
  echo 0
}
ready=0
for _ in $(seq 1 240); do
  ok=0
  for n in 1 2 3; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${REST[$n]}/health")" = 200 ] && ok=$((ok + 1))
  done
  if [ "$ok" = 3 ] && [ "$(primary_member)" != 0 ]; then ready=1; break; fi
  sleep 0.5
done
[ "$ready" = 1 ] || { tail -n 20 "$WORK"/pg*.log; die "Patroni did not come up"; }
P=$(primary_member)

BALLAST_PORT=$(free_port); BALLAST_USER_PORT=$(free_port); BALLAST_NAT_PORT=$(free_port)
HAPROXY_PORT=$(free_port)
ADMIN_PORT=$(free_port)
render_db() {
  sed -e "s|@PG1@|${PG[1]}|g" -e "s|@PG2@|${PG[2]}|g" -e "s|@PG3@|${PG[3]}|g" \
    -e "s|@REST1@|${REST[1]}|g" -e "s|@REST2@|${REST[2]}|g" -e "s|@REST3@|${REST[3]}|g" \
    -e "s|@BALLAST_PORT@|$BALLAST_PORT|g" -e "s|@BALLAST_USER_PORT@|$BALLAST_USER_PORT|g" \
    -e "s|@BALLAST_NAT_PORT@|$BALLAST_NAT_PORT|g" \
    -e "s|@HAPROXY_PORT@|$HAPROXY_PORT|g" \
    -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" "$1" >"$2"
}
render_db "$HERE/bench/configs/db-ballast.yaml.in" "$WORK/ballast.yaml"
render_db "$HERE/bench/configs/db-haproxy.cfg.in" "$WORK/haproxy.cfg"
"$BALLAST" run -c "$WORK/ballast.yaml" >"$WORK/ballast.log" 2>&1 & pids+=($!)
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & pids+=($!)
wait_port "$BALLAST_PORT"; wait_port "$HAPROXY_PORT"
# The paths measured, and their ports (direct: the primary's own).
VIAS=(direct ballast ballast-nat ballast-user haproxy)
declare -A VIA_PORT=([ballast]=$BALLAST_PORT [ballast-nat]=$BALLAST_NAT_PORT
  [ballast-user]=$BALLAST_USER_PORT [haproxy]=$HAPROXY_PORT)
# HAProxy marks the primary up after two checks 3 s apart.
for _ in $(seq 1 100); do
  up=1
  for via in ballast ballast-nat ballast-user haproxy; do
    psql -h 127.0.0.1 -p "${VIA_PORT[$via]}" -U postgres -Atqc 'select 1' >/dev/null 2>&1 || up=0
  done
  [ "$up" = 1 ] && break
  sleep 0.2
done
VIA_PORT[direct]=${PG[$P]}
# relay: nat sends connections by the kernel's NAT only where it can (root, nf_tables).
nat_state=$(curl -s "http://127.0.0.1:$ADMIN_PORT/api/v1/databases/nat" |
  $PY -c 'import json,sys; n=json.load(sys.stdin)["writer"].get("nat",{}); print("steering" if n.get("steering") else "NOT steering: " + n.get("why",""))')

pgbench -h 127.0.0.1 -p "${PG[$P]}" -U postgres -i -s 10 -q postgres >"$WORK/init.log" 2>&1 ||
  { cat "$WORK/init.log"; die "pgbench -i failed"; }
tps() {  # port, extra pgbench args; 0 when the run failed (its output is in pgbench.log)
  local out
  out=$(pgbench -h 127.0.0.1 -p "$1" -U postgres -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" -n $2 \
    postgres 2>>"$WORK/pgbench.log" || true)
  echo "$out" >>"$WORK/pgbench.log"
  awk '/^tps/ {print $3; found = 1; exit} END {if (!found) print 0}' <<<"$out"
}
# The whole machine's busy CPU (user, nice, system, irq, softirq; both cores) in clock ticks.
# Per transaction it counts everything a path costs: pgbench, PostgreSQL and the relay,
# wherever the relay runs (a proxy's process, or, for ballast's kernel relay, the kernel's
# softirqs and kworkers, which no process's own CPU time shows). A path's figure minus
# direct's is what its proxy costs per transaction, steadier than tps on a shared machine.
CLK_TCK=$(getconf CLK_TCK)
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8; exit}' /proc/stat; }
us_per_tx() {  # ticks, tps
  awk -v d="$1" -v t="$2" -v s="$SECONDS_PER_RUN" -v hz="$CLK_TCK" \
    'BEGIN { if (t > 0) printf "%.2f", d * 1e6 / hz / (t * s); else print 0 }'
}
declare -A RESULTS CPU
for mode in select-only tpcb-like; do
  args=""; [ "$mode" = select-only ] && args="-S"
  for round in $(seq 1 "$ROUNDS"); do
    # Interleaved, and each round starting one path later, so that drift on a shared
    # machine (and the order within a round) falls on every path alike.
    for i in "${!VIAS[@]}"; do
      via=${VIAS[$(((i + round - 1) % ${#VIAS[@]}))]}
      port=${VIA_PORT[$via]}
      # No run pays for the checkpoint of another's writes.
      psql -h 127.0.0.1 -p "${PG[$P]}" -U postgres -Atqc 'CHECKPOINT' >/dev/null
      before=$(machine_ticks)
      t=$(tps "$port" "$args")
      RESULTS[$mode,$via]="${RESULTS[$mode,$via]:-} $t"
      CPU[$mode,$via]="${CPU[$mode,$via]:-} $(us_per_tx $(($(machine_ticks) - before)) "$t")"
    done
  done
done

minus() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a - b}'; }
# A header and a line per mode: the medians in the associative array named $1 for each path
# (printf precision $2), then each proxy's against direct by the function $3 (ratio, minus),
# in columns headed with $4 after the proxy's name.
table() {
  local -n values=$1
  local mode via d v
  printf "%-12s" mode
  for via in "${VIAS[@]}"; do printf " %12s" "$via"; done
  for via in "${VIAS[@]:1}"; do printf " %13s" "$via$4"; done
  echo
  for mode in select-only tpcb-like; do
    d=$(median "${values[$mode,direct]}")
    printf "%-12s" "$mode"
    for via in "${VIAS[@]}"; do printf " %12.$2f" "$(median "${values[$mode,$via]}")"; done
    for via in "${VIAS[@]:1}"; do
      printf " %13s" "$($3 "$(median "${values[$mode,$via]}")" "$d")"
    done
    echo
  done
}

echo
echo "pgbench, $CLIENTS clients, ${SECONDS_PER_RUN}s per run, median of $ROUNDS interleaved rounds (tps)"
echo "(ballast: relay: kernel, the default; ballast-nat: relay: nat ($nat_state);"
echo " ballast-user: relay: user, ballast's own relay)"
table RESULTS 0 ratio /
for mode in select-only tpcb-like; do
  awk -v m="$mode" -v n="$(median "${RESULTS[$mode,ballast-nat]}")" \
    -v d="$(median "${RESULTS[$mode,direct]}")" 'BEGIN {
      printf "goal: ballast-nat >= 0.95x direct (%s): %s\n", m, (d > 0 && n / d >= 0.95) ? "met" : "NOT MET" }'
done
echo
echo "the machine's CPU per transaction (microseconds, both cores, median), and each proxy's part"
table CPU 2 minus -

psql -h 127.0.0.1 -p "${PG[$P]}" -U postgres -Atqc \
  'create table probe(id bigserial primary key, who text, at timestamptz default now())' >/dev/null
members="["
for n in 1 2 3; do
  members+="{\"pg\": ${PG[$n]}, \"rest\": ${REST[$n]}, \"pid_file\": \"$WORK/pg$n/postmaster.pid\", \"agent_pid\": ${AGENT[$n]}}"
  [ "$n" != 3 ] && members+=", "
done
members+="]"
proxies="{\"ballast\": $BALLAST_PORT, \"ballast-nat\": $BALLAST_NAT_PORT, \"haproxy\": $HAPROXY_PORT}"
timeline=$($PY "$HERE/bench/db_failover.py" \
  "{\"proxies\": $proxies, \"members\": $members}" "$((P - 1))")
echo
echo "failover: kill -9 of the primary's Patroni and PostgreSQL (pg$P), probes writing every 20 ms"
$PY - "$timeline" <<'PYEOF'
import json, sys
t = json.loads(sys.argv[1])
print("  Patroni promoted a replica %d ms after the kill (ttl 10 s)" % t["promoted_after_kill_ms"])
for name in ("ballast", "ballast-nat", "haproxy"):
    e = t[name]
    r = e["reached_new_primary_after_promotion_ms"]
    print("  %-11s reached the new primary %s after the promotion; longest time without a write %d ms"
          % (name, "%d ms" % r if r is not None else "never (within the drill)", e["longest_without_write_ms"]))
for name in ("ballast", "ballast-nat"):
    b = t[name]["reached_new_primary_after_promotion_ms"]
    print("  goal: %s within 1000 ms of the promotion: %s" % (name, "met" if b is not None and b <= 1000 else "NOT MET"))
PYEOF
