#!/usr/bin/env bash
# `make bench`, TLS part: handshakes per second, full and resumed, with an ECDSA P-256 and an
# RSA 2048 certificate. openssl s_time clients (each handshake, then GET / and close) against
# ballast, haproxy and nginx, each terminating TLS on one thread and answering a fixed 200,
# in alternating rounds. Prints the median handshakes/s and the server's CPU microseconds per
# handshake, and the ratios ballast/haproxy and ballast/nginx. The clients share the machine
# with the server (and an ECDSA handshake costs the client more than the server), so CPU per
# handshake is the figure that compares the servers; handshakes/s is what this machine did.
#
# Knobs (environment): BENCH_TLS_DURATION=5 (seconds per run), BENCH_ROUNDS=3,
# BENCH_TLS_CLIENTS=2 (s_time processes at once).
set -euo pipefail

BALLAST=$(realpath "${1:-build/ballast}")
DURATION=${BENCH_TLS_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=${BENCH_TLS_CLIENTS:-2}
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ballast-bench-tls-XXXXXX)
pids=()

stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}
cleanup() {
  stop_servers
  rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "bench-tls: $*" >&2; exit 1; }
for tool in openssl haproxy nginx; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

source "$(dirname "$0")/lib.sh"

# --- certificates: a throwaway CA and one leaf per key type --------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/ca.key" \
  -out "$WORK/ca.pem" -days 2 -subj "/CN=bench CA" 2>/dev/null
make_leaf() {  # name, key args
  openssl req -newkey $2 -nodes -keyout "$WORK/$1.key" -out "$WORK/$1.csr" -subj "/CN=bench.test" 2>/dev/null
  printf 'subjectAltName=DNS:bench.test\n' >"$WORK/$1.ext"
  openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -set_serial 0x$RANDOM \
    -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
  cat "$WORK/$1.pem" "$WORK/$1.key" >"$WORK/$1.combined.pem"  # haproxy's form
}
make_leaf ecdsa "ec -pkeyopt ec_paramgen_curve:P-256"
make_leaf rsa "rsa:2048"

# --- the three servers, all on one thread, TLS 1.2 and 1.3, tickets and a session cache -----
declare -A PORT PID
start_servers() {  # key type
  local k=$1
  PORT[ballast]=$(free_port)
  cat >"$WORK/ballast.yaml" <<EOF
workers: 1
admin: { enabled: false }
listeners:
  - name: bench
    bind: 127.0.0.1:${PORT[ballast]}
    tls:
      certificates: [ { cert: $WORK/$k.pem, key: $WORK/$k.key } ]
    rules: [ { fixed_response: { status: 200, body: "ok" } } ]
EOF
  "$BALLAST" run -c "$WORK/ballast.yaml" >"$WORK/ballast.log" 2>&1 & pids+=($!); PID[ballast]=$!

  PORT[haproxy]=$(free_port)
  cat >"$WORK/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
    ssl-default-bind-options ssl-min-ver TLSv1.2
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend bench
    bind 127.0.0.1:${PORT[haproxy]} ssl crt $WORK/$k.combined.pem alpn http/1.1
    http-request return status 200 content-type text/plain string ok
EOF
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & pids+=($!); PID[haproxy]=$!

  PORT[nginx]=$(free_port)
  cat >"$WORK/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-body;
    server {
        listen 127.0.0.1:${PORT[nginx]} ssl;
        ssl_certificate $WORK/$k.pem;
        ssl_certificate_key $WORK/$k.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets on;
        location / { return 200 "ok"; }
    }
}
EOF
  nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 & pids+=($!); PID[nginx]=$!
  for v in ballast haproxy nginx; do wait_port "${PORT[$v]}"; done
}

VARIANTS=(ballast haproxy nginx)
declare -A RATE CPU
run_one() {  # variant, mode (new|reuse), key -> appends handshakes/s and cpu us/handshake
  local v=$1 mode=$2 k=$3 before after total=0 i
  timeout 20 openssl s_time -connect "127.0.0.1:${PORT[$v]}" "-$mode" -time 1 -www / >/dev/null 2>&1 || true
  before=$(cpu_ticks "${PID[$v]}")
  for ((i = 0; i < CLIENTS; i++)); do
    timeout $((DURATION + 20)) openssl s_time -connect "127.0.0.1:${PORT[$v]}" "-$mode" \
      -time "$DURATION" -www / >"$WORK/s_time.$i" 2>&1 &
  done
  wait_clients
  after=$(cpu_ticks "${PID[$v]}")
  for ((i = 0; i < CLIENTS; i++)); do
    total=$((total + $(awk '/connections in .* real seconds/ {print $1}' "$WORK/s_time.$i" | tail -1)))
  done
  ((total > 0)) || { cat "$WORK/s_time.0" >&2; die "$v: no handshake completed"; }
  RATE[$v.$mode.$k]+="$(awk -v n=$total -v d="$DURATION" 'BEGIN { printf "%.0f", n / d }') "
  CPU[$v.$mode.$k]+="$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n=$total \
    'BEGIN { printf "%.1f", t * 1000000 / hz / n }') "
}
wait_clients() {
  local job
  for job in $(jobs -p); do
    # Only the s_time clients: the servers are in pids[].
    [[ " ${pids[*]} " == *" $job "* ]] || wait "$job" || true
  done
}

echo "bench-tls: openssl s_time x$CLIENTS, ${DURATION}s per run, $ROUNDS alternating rounds ($(nproc) cores)"
echo "bench-tls: $(openssl version | cut -d' ' -f1-2), $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3)"
for k in ecdsa rsa; do
  start_servers "$k"
  for mode in new reuse; do
    for ((round = 0; round < ROUNDS; round++)); do
      for ((i = 0; i < ${#VARIANTS[@]}; i++)); do
        run_one "${VARIANTS[$(((i + round) % ${#VARIANTS[@]}))]}" "$mode" "$k"
      done
    done
  done
  stop_servers
done

echo
printf '%-7s %-8s %-8s %14s %16s\n' key mode server "handshakes/s" "cpu us/handshake"
for k in ecdsa rsa; do
  for mode in new reuse; do
    for v in "${VARIANTS[@]}"; do
      printf '%-7s %-8s %-8s %14s %16s\n' "$k" "$([[ $mode == new ]] && echo full || echo resumed)" "$v" \
        "$(median "${RATE[$v.$mode.$k]}")" "$(median "${CPU[$v.$mode.$k]}")"
    done
  done
done
echo
for k in ecdsa rsa; do
  for mode in new reuse; do
    label="$k $([[ $mode == new ]] && echo full || echo resumed)"
    for other in haproxy nginx; do
      echo "ballast/$other ($label): handshakes/s $(ratio "$(median "${RATE[ballast.$mode.$k]}")" "$(median "${RATE[$other.$mode.$k]}")")," \
        "CPU per handshake $(ratio "$(median "${CPU[ballast.$mode.$k]}")" "$(median "${CPU[$other.$mode.$k]}")")"
    done
  done
done
echo "goal: handshakes >= 1.00x haproxy (CPU per handshake <= 1.00x)"
