#!/usr/bin/env bash
# `make bench`: wrk against the same two demo backends four ways -- directly, through
# ballast, through haproxy and through nginx -- in alternating rounds. Prints the median
# requests/s, p50/p99 latency and the proxy's CPU microseconds per request, then the
# ratios ballast/haproxy and ballast/nginx. Never part of `make test`.
#
# Knobs (environment): BENCH_DURATION=10 (seconds per run), BENCH_ROUNDS=3,
# BENCH_CONNECTIONS=64, BENCH_PATH=/ , BENCH_WRK_THREADS=1.
set -euo pipefail

BALLAST=$(realpath "${1:-build/ballast}")
HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
URL_PATH=${BENCH_PATH:-/}
WRK_THREADS=${BENCH_WRK_THREADS:-1}
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ballast-bench-XXXXXX)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "bench: $*" >&2; exit 1; }
for tool in wrk haproxy nginx; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

source "$HERE/lib.sh"

# wrk's latency figures ("1.23ms", "850.00us", "1.01s") in microseconds.
to_us() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000; else f = 0
    printf "%.0f", n * f }'
}

# --- the two targets, shared by every variant -----------------------------------------
start_targets "$BALLAST"

# --- the proxies -----------------------------------------------------------------------
declare -A PORT PID
PORT[direct]=$T1
PID[direct]=${pids[0]}

start_proxies "$BALLAST"

VARIANTS=(direct ballast haproxy nginx)
for v in "${VARIANTS[@]}"; do wait_port "${PORT[$v]}"; done

echo "bench: wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s $URL_PATH, $ROUNDS alternating rounds;" \
  "targets on :$T1 and :$T2 ($(nproc) cores)"
echo "bench: $(haproxy -v | head -1 | cut -d' ' -f1-3), $(nginx -v 2>&1 | cut -d' ' -f3)"

# --- alternating rounds ------------------------------------------------------------------
declare -A RPS P50 P99 CPU
run_one() {  # variant -> appends "rps p50 p99 cpu_us_per_request" to its series
  local v=$1 out before after requests
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d2s "http://127.0.0.1:${PORT[$v]}$URL_PATH" >/dev/null  # warm-up
  before=$(cpu_ticks "${PID[$v]}")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$v]}$URL_PATH")
  after=$(cpu_ticks "${PID[$v]}")
  if grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "bench: $v had errors:" >&2
    grep "Non-2xx\|Socket errors" <<<"$out" >&2
  fi
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  RPS[$v]+="$(awk '/^Requests\/sec/ {print $2}' <<<"$out") "
  P50[$v]+="$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")") "
  P99[$v]+="$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")") "
  CPU[$v]+="$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
    'BEGIN { printf "%.2f", t * 1000000 / hz / n }') "
}

for ((round = 0; round < ROUNDS; round++)); do
  # Rotate the order so no variant always runs first (or right after another).
  for ((i = 0; i < ${#VARIANTS[@]}; i++)); do
    v=${VARIANTS[$(((i + round) % ${#VARIANTS[@]}))]}
    run_one "$v"
    printf 'bench: round %d %-8s %10s req/s\n' $((round + 1)) "$v" "$(echo "${RPS[$v]}" | awk '{print $NF}')"
  done
done

# --- report -----------------------------------------------------------------------------
echo
printf '%-8s %12s %10s %10s %14s\n' variant "req/s" "p50 us" "p99 us" "cpu us/req"
declare -A M_RPS M_CPU
for v in "${VARIANTS[@]}"; do
  M_RPS[$v]=$(median "${RPS[$v]}")
  M_CPU[$v]=$(median "${CPU[$v]}")
  cpu=${M_CPU[$v]}
  [[ $v == direct ]] && cpu="(backend)"
  printf '%-8s %12s %10s %10s %14s\n' "$v" "${M_RPS[$v]}" "$(median "${P50[$v]}")" \
    "$(median "${P99[$v]}")" "$cpu"
done
echo
for other in haproxy nginx; do
  echo "ballast/$other: requests/s $(ratio "${M_RPS[ballast]}" "${M_RPS[$other]}")," \
    "CPU per request $(ratio "${M_CPU[ballast]}" "${M_CPU[$other]}")"
done
echo "goal: requests/s >= 1.00x haproxy and CPU per request <= 1.00x haproxy"
