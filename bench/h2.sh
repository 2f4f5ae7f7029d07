#!/usr/bin/env bash
# `make bench`, HTTP/2 part: h2load (nghttp2-client) over TLS with ALPN h2 against ballast,
# haproxy and nginx, each on one thread, terminating TLS (ECDSA P-256) and HTTP/2 and
# forwarding every request as HTTP/1.1 with keep-alive to the same two demo backends (the
# configurations of bench/run.sh, with TLS), in alternating rounds. Prints the median requests/s and
# the proxy's CPU microseconds per request, and the ratios ballast/haproxy and ballast/nginx.
#
# Knobs (environment): BENCH_H2_DURATION=5 (seconds per run), BENCH_ROUNDS=3,
# BENCH_H2_CONNECTIONS=16, BENCH_H2_STREAMS=10 (concurrent streams per connection).
set -euo pipefail

BALLAST=$(realpath "${1:-build/ballast}")
DURATION=${BENCH_H2_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_H2_CONNECTIONS:-16}
STREAMS=${BENCH_H2_STREAMS:-10}
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ballast-bench-h2-XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "bench-h2: $*" >&2; exit 1; }
for tool in h2load openssl haproxy nginx; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

source "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/site.key" \
  -out "$WORK/site.pem" -days 2 -subj "/CN=bench.test" -addext "subjectAltName=DNS:bench.test" \
  2>/dev/null
cat "$WORK/site.pem" "$WORK/site.key" >"$WORK/site.combined.pem"  # haproxy's form

# --- the proxies of bench/run.sh, terminating TLS and offering h2 by ALPN ------------------
start_targets "$BALLAST"
BALLAST_TLS="    tls: { certificates: [ { cert: $WORK/site.pem, key: $WORK/site.key } ] }"
HAPROXY_TLS=" ssl crt $WORK/site.combined.pem alpn h2,http/1.1"
NGINX_LISTEN=" ssl http2"
NGINX_TLS="        ssl_certificate $WORK/site.pem; ssl_certificate_key $WORK/site.key;"
declare -A PORT PID
start_proxies "$BALLAST"

VARIANTS=(ballast haproxy nginx)
declare -A RATE CPU
run_one() {  # variant -> appends requests/s and cpu us/request
  local v=$1 before after out rps done_requests failed
  timeout 30 h2load -n 2000 -c "$CONNECTIONS" -m "$STREAMS" "https://127.0.0.1:${PORT[$v]}/" >/dev/null 2>&1 || true
  before=$(cpu_ticks "${PID[$v]}")
  out=$(timeout $((DURATION + 30)) h2load -D "$DURATION" -c "$CONNECTIONS" -m "$STREAMS" -t 1 \
    "https://127.0.0.1:${PORT[$v]}/" 2>&1) || true
  after=$(cpu_ticks "${PID[$v]}")
  grep -q "h2" <<<"$(grep 'Application protocol' <<<"$out")" || die "$v did not speak h2: $out"
  failed=$(awk '/^requests:/ {print $10}' <<<"$out")
  [[ "$failed" == "0" ]] || die "$v: h2load reports failed requests: $(grep '^requests:' <<<"$out")"
  rps=$(awk '/^finished in/ {print $4}' <<<"$out")
  done_requests=$(awk '/^requests:/ {print $8}' <<<"$out")
  RATE[$v]+="$rps "
  CPU[$v]+="$(awk -v t=$((after - before)) -v n="$done_requests" -v hz="$CLK_TCK" \
    'BEGIN { if (n > 0) printf "%.1f", t * 1000000 / hz / n; else print 0 }') "
}

echo "bench-h2: h2load ${DURATION}s x $ROUNDS rounds, $CONNECTIONS connections x $STREAMS streams, TLS (ECDSA P-256), targets over HTTP/1.1"
for ((r = 1; r <= ROUNDS; r++)); do
  for v in "${VARIANTS[@]}"; do run_one "$v"; done
done

printf '%-8s %12s %16s\n' proxy "requests/s" "cpu us/request"
for v in "${VARIANTS[@]}"; do
  printf '%-8s %12s %16s\n' "$v" "$(median "${RATE[$v]}")" "$(median "${CPU[$v]}")"
done
for other in haproxy nginx; do
  echo "ballast/$other: requests/s $(ratio "$(median "${RATE[ballast]}")" "$(median "${RATE[$other]}")"), cpu per request $(ratio "$(median "${CPU[ballast]}")" "$(median "${CPU[$other]}")")"
done
echo "goal: HTTP/2 requests/s >= 1.20x haproxy"
