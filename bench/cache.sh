#!/usr/bin/env bash
# `make bench`, cache part: the hit path of ballast's response cache against nginx's
# proxy_cache and Varnish (both Debian's), serving the same stored object of 1 KiB and of
# 100 KiB, in alternating rounds; then the miss path: 200 clients asking at once for a cold
# key whose origin takes 200 ms, counting the requests that reach the origin (coalescing
# makes it 1) and the clients' p50/p99.
#
# Every proxy runs on CPU 0 (ballast and nginx with one worker; Varnish's threads share that
# CPU), wrk on CPU 1, so requests/s compare the work each does per request on one core. CPU
# per request is the proxy's user + system time over the requests wrk completed.
#
# With 100 KiB objects one wrk thread, receiving some 6 GB/s, becomes the limit before the
# fastest proxy does, and requests/s would only measure wrk. So each proxy also gets a CPU
# quota (BENCH_CACHE_CPU_QUOTA percent of one CPU, through the cgroup cpu controller, v1 or
# v2, when the machine lets us create a group): then every proxy, not the client, is the limit.
#
# Knobs (environment): BENCH_CACHE_DURATION=5 (seconds per run), BENCH_ROUNDS=3,
# BENCH_CACHE_CONNECTIONS=32, BENCH_CACHE_STORM=200 (clients of the cold-key storm),
# BENCH_CACHE_CPU_QUOTA=50 (0: no quota).
set -euo pipefail

BALLAST=$(realpath "${1:-build/ballast}")
HERE=$(cd "$(dirname "$0")" && pwd)
DURATION=${BENCH_CACHE_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CACHE_CONNECTIONS:-32}
STORM=${BENCH_CACHE_STORM:-200}
QUOTA=${BENCH_CACHE_CPU_QUOTA:-50}
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/ballast-bench-cache-XXXXXX)
chmod 755 "$WORK"  # Varnish's worker process runs as its own user
pids=()

groups=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for g in "${groups[@]}"; do rmdir "$g" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

die() { echo "bench-cache: $*" >&2; exit 1; }
for tool in wrk nginx varnishd python3 taskset curl; do
  command -v "$tool" >/dev/null || die "$tool is missing; run scripts/install-deps.sh"
done

source "$HERE/lib.sh"

mkdir -p "$WORK/files"
head -c 1024 /dev/urandom >"$WORK/files/1k.bin"
head -c 102400 /dev/urandom >"$WORK/files/100k.bin"

declare -A PORT PID
FILES=$(free_port)
SLOW=$(free_port)
ADMIN=$(free_port)
PORT[ballast]=$(free_port)
PORT[nginx]=$(free_port)
PORT[varnish]=$(free_port)
fill() {  # template, file, port
  sed -e "s|@PORT@|$3|g" -e "s|@FILES@|$FILES|g" -e "s|@SLOW@|$SLOW|g" -e "s|@DIR@|$WORK|g" \
    -e "s|@ADMIN@|$ADMIN|g" "$1" >"$2"
}

# The origins, on CPU 1 with wrk (they only serve misses).
fill "$HERE/configs/cache-origin.conf.in" "$WORK/origin.conf" 0
taskset -c 1 nginx -p "$WORK" -c "$WORK/origin.conf" >"$WORK/origin.log" 2>&1 & pids+=($!)
taskset -c 1 python3 "$HERE/cache_storm.py" origin "$SLOW" >"$WORK/slow.log" 2>&1 & pids+=($!)
wait_port "$FILES"; wait_port "$SLOW"

# The caches, on CPU 0.
fill "$HERE/configs/cache-ballast.yaml.in" "$WORK/ballast.yaml" "${PORT[ballast]}"
taskset -c 0 "$BALLAST" run -c "$WORK/ballast.yaml" >"$WORK/ballast.log" 2>&1 & pids+=($!)
PID[ballast]=$!
fill "$HERE/configs/cache-nginx.conf.in" "$WORK/cache-nginx.conf" "${PORT[nginx]}"
taskset -c 0 nginx -p "$WORK" -c "$WORK/cache-nginx.conf" >"$WORK/cache-nginx.log" 2>&1 & pids+=($!)
PID[nginx]=$!
fill "$HERE/configs/cache-varnish.vcl.in" "$WORK/varnish.vcl" 0
taskset -c 0 varnishd -F -a "127.0.0.1:${PORT[varnish]}" -f "$WORK/varnish.vcl" -n "$WORK/varnish" \
  -s malloc,256m -T none >"$WORK/varnish.log" 2>&1 & pids+=($!)
PID[varnish]=$!
for v in ballast nginx varnish; do wait_port "${PORT[$v]}"; done

# limit_cpu NAME PID: the process and its children into a cgroup of QUOTA% of one CPU; sets
# LIMITED=1 when it could.
LIMITED=0
limit_cpu() {
  local name=ballast-bench-$$-$1 pid=$2 dir p
  ((QUOTA > 0)) || return 0
  if [[ -w /sys/fs/cgroup/cpu ]] && mkdir "/sys/fs/cgroup/cpu/$name" 2>/dev/null; then
    dir=/sys/fs/cgroup/cpu/$name
    echo 100000 >"$dir/cpu.cfs_period_us"
    echo $((QUOTA * 1000)) >"$dir/cpu.cfs_quota_us"
  elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
       mkdir "/sys/fs/cgroup/$name" 2>/dev/null; then
    dir=/sys/fs/cgroup/$name
    echo "$((QUOTA * 1000)) 100000" >"$dir/cpu.max"
  else
    return 0
  fi
  groups+=("$dir")
  for p in "$pid" $(pgrep -P "$pid" || true); do echo "$p" >"$dir/cgroup.procs" || true; done
  LIMITED=1
}
QUOTA_NOTE="no CPU quota (no cgroup could be made): at 100 KiB, wrk may be the limit"
for v in ballast nginx varnish; do limit_cpu "$v" "${PID[$v]}"; done
((LIMITED)) && QUOTA_NOTE="each proxy limited to ${QUOTA}% of CPU 0 (cgroup)"
((QUOTA > 0)) || QUOTA_NOTE="no CPU quota"

VARIANTS=(ballast nginx varnish)
OBJECTS=(1k 100k)
# Store each object, then check that the proxies answer it from their caches.
for v in "${VARIANTS[@]}"; do
  for o in "${OBJECTS[@]}"; do
    for _ in 1 2 3; do curl -s -o /dev/null "http://127.0.0.1:${PORT[$v]}/$o.bin"; done
    head=$(curl -s -D - -o /dev/null "http://127.0.0.1:${PORT[$v]}/$o.bin")
    case $v in
      ballast) grep -qi '^x-cache: HIT' <<<"$head" || die "ballast does not hit on /$o.bin: $head" ;;
      nginx) grep -qi '^x-cache: HIT' <<<"$head" || die "nginx does not hit on /$o.bin: $head" ;;
      varnish) grep -qiE '^x-varnish: [0-9]+ [0-9]+' <<<"$head" || die "Varnish does not hit on /$o.bin: $head" ;;
    esac
  done
done

declare -A RATE CPU
run_one() {  # variant, object -> appends requests/s and cpu us/request
  local v=$1 o=$2 before after out requests
  local url="http://127.0.0.1:${PORT[$v]}/$o.bin"
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d1s "$url" >/dev/null  # warm-up
  before=$(cpu_ticks "${PID[$v]}")
  out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url")
  after=$(cpu_ticks "${PID[$v]}")
  grep -q "Non-2xx" <<<"$out" && die "$v answered errors: $out"
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  RATE[$v$o]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
  CPU[$v$o]+="$(awk -v t=$((after - before)) -v n="$requests" -v hz="$CLK_TCK" \
    'BEGIN { if (n > 0) printf "%.1f", t * 1000000 / hz / n; else print 0 }') "
}

echo "bench-cache: hits, wrk ${DURATION}s x $ROUNDS rounds, $CONNECTIONS connections; each cache on CPU 0, wrk on CPU 1; $QUOTA_NOTE"
for ((r = 1; r <= ROUNDS; r++)); do
  for o in "${OBJECTS[@]}"; do
    for v in "${VARIANTS[@]}"; do run_one "$v" "$o"; done
  done
done
printf '%-7s %-8s %12s %16s\n' object proxy "requests/s" "cpu us/request"
for o in "${OBJECTS[@]}"; do
  for v in "${VARIANTS[@]}"; do
    printf '%-7s %-8s %12s %16s\n' "$o" "$v" "$(median "${RATE[$v$o]}")" "$(median "${CPU[$v$o]}")"
  done
done
for o in "${OBJECTS[@]}"; do
  for other in nginx varnish; do
    echo "$o ballast/$other: requests/s $(ratio "$(median "${RATE[ballast$o]}")" "$(median "${RATE[$other$o]}")"), cpu per request $(ratio "$(median "${CPU[ballast$o]}")" "$(median "${CPU[$other$o]}")")"
  done
done
echo "goal: hits >= 1.5x nginx proxy_cache and >= 1.0x Varnish in requests/s, with less CPU per request than both"

echo "bench-cache: miss storm, $STORM clients at once on a cold key (the origin takes 200 ms)"
printf '%-8s %16s %8s %8s %7s\n' proxy "origin requests" "p50 ms" "p99 ms" failed
for v in "${VARIANTS[@]}"; do
  for ((r = 1; r <= ROUNDS; r++)); do
    read -r count p50 p99 failed < <(python3 "$HERE/cache_storm.py" storm "${PORT[$v]}" "$SLOW" "$v-$r-$RANDOM" "$STORM")
    printf '%-8s %16s %8s %8s %7s\n' "$v" "$count" "$p50" "$p99" "$failed"
  done
done
echo "goal: 1 origin request per key"
