#!/usr/bin/env bash
# `make bench-autoscale`: the elasticity benchmark. Runs examples/quickstart.yaml (its
# autoscaling group of `ballast backend` instances, on free ports) and drives it with
# `ballast load` through a step profile and a spike profile of /block?ms=20 requests. First
# it calibrates demand: the highest rate one instance serves with p99 within the SLO. Then
# bench/elasticity.py computes the SPEC RG elasticity metrics, the time until new capacity
# serves, SLO-violation time, failed requests and instance-seconds, checks the goals, and
# plots supply, demand and latency to build/bench-autoscale/{step,spike}.png.
#
# Knobs (environment): BENCH_SLO_MS=100, BENCH_STEADY=120 (seconds of steady high load in
# the step profile), BENCH_OUT=build/bench-autoscale.
set -euo pipefail

BALLAST=$(realpath "${1:-build/ballast}")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SLO_MS=${BENCH_SLO_MS:-100}
STEADY=${BENCH_STEADY:-120}
OUT=$(mkdir -p "${BENCH_OUT:-build/bench-autoscale}" && realpath "${BENCH_OUT:-build/bench-autoscale}")
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
die() { echo "bench-autoscale: $*" >&2; exit 1; }
command -v gnuplot >/dev/null || die "gnuplot is missing; run scripts/install-deps.sh"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 20000))
    port_busy "$port" || { echo "$port"; return; }
  done
  die "no free port found"
}
wait_port() { for _ in $(seq 100); do port_busy "$1" && return; sleep 0.1; done; die "nothing on port $1"; }
json_field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. Demand calibration: one instance exactly as the quickstart launches it.
INSTANCE_CMD=$(grep -o '"{ballast} backend[^"]*"' "$ROOT/examples/quickstart.yaml" | tr -d '"')
BPORT=$(free_port)
# shellcheck disable=SC2086
$(echo "$INSTANCE_CMD" | sed "s|{ballast}|$BALLAST|; s|{port}|$BPORT|; s|{instance_id}|calibration|") \
  >"$OUT/calibration-backend.log" 2>&1 &
pids+=($!)
wait_port "$BPORT"
CAPACITY=0
echo "calibrating: the rate one instance serves with p99 within ${SLO_MS} ms"
for rate in 50 100 150 175 200 225 250 300; do
  result=$("$BALLAST" load "http://127.0.0.1:$BPORT/block?ms=20" --rate "$rate" --duration 5 -q --json) || true
  p99=$(echo "$result" | json_field 'd["latency_ms"]["p99"]')
  ok=$(echo "$result" | json_field 'd["ok"] == d["scheduled"]')
  printf "  %4d/s: p99 %8.1f ms %s\n" "$rate" "$p99" "$([ "$ok" = True ] || echo '(errors)')"
  if [ "$ok" != True ] || python3 -c "import sys; sys.exit(0 if $p99 > $SLO_MS else 1)"; then break; fi
  CAPACITY=$rate
done
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
[ "$CAPACITY" -gt 0 ] || die "one instance cannot serve even 50/s within the SLO"
echo "one instance serves ${CAPACITY}/s within the SLO"

# 2. The quickstart on free ports.
LB_PORT=$(free_port); ADMIN_PORT=$(free_port); BASE=$(free_port)
sed -e "s|0.0.0.0:8080|127.0.0.1:$LB_PORT|; s|127.0.0.1:9901|127.0.0.1:$ADMIN_PORT|" \
    -e "s|ports: 9100-9199|ports: $BASE-$((BASE + 99))|" \
    "$ROOT/examples/quickstart.yaml" >"$OUT/quickstart.yaml"
"$BALLAST" run -c "$OUT/quickstart.yaml" >"$OUT/ballast.log" 2>&1 &
pids+=($!)
wait_port "$ADMIN_PORT"
ADMIN=127.0.0.1:$ADMIN_PORT
in_service() { curl -s "http://$ADMIN/api/v1/autoscaling-groups/app" | json_field 'd["in_service"]'; }
for _ in $(seq 300); do [ "$(in_service)" -ge 2 ] 2>/dev/null && break; sleep 0.1; done

run_profile() {  # NAME TRACE STEADY
  local name=$1 trace=$2 steady=$3 start result failed
  echo; echo "profile $name: $(tr '\n' ' ' <"$trace")"
  start=$(date +%s)
  # ballast load exits 1 when any request failed: that is a result to report, not a reason
  # to stop before the report.
  result=$("$BALLAST" load "http://127.0.0.1:$LB_PORT/block?ms=20" --profile "csv:$trace" \
    --duration "$(tail -1 "$trace" | cut -d, -f1)" --connections 2000 -q --json) || true
  [ -n "$result" ] || die "ballast load printed no summary for $name"
  echo "$result" >"$OUT/$name-load.json"
  failed=$(echo "$result" | json_field 'd["scheduled"] - d["ok"]')
  echo "$result" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("  failed requests: %d; sent again after the server closed a reused connection: %d" %
      (d["scheduled"] - d["ok"], d.get("resent", 0)))
for second, kinds in sorted(d.get("errors_by_second", {}).items(), key=lambda kv: int(kv[0])):
    print("    at %4ss: %s" % (second, ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
' 
  sleep 2  # the last second's datapoints
  python3 "$HERE/elasticity.py" --admin "$ADMIN" --trace "$trace" --start "$start" \
    --capacity "$CAPACITY" --slo-ms "$SLO_MS" --failed "$failed" --steady "$steady" \
    --name "$name" --out "$OUT" || status=2
}

# 3. Step: low, then a high plateau whose last STEADY seconds must see no scaling action,
#    then low again long enough for scale-in (the quickstart stabilizes for 60 s).
LOW=$((CAPACITY / 2)); HIGH=$((CAPACITY * 5 / 2)); PEAK=$((CAPACITY * 7 / 2))
printf "0,%d\n30,%d\n%d,%d\n%d,%d\n" "$LOW" "$HIGH" $((90 + STEADY)) "$LOW" $((190 + STEADY)) "$LOW" >"$OUT/step.csv"
status=0
run_profile step "$OUT/step.csv" "90,$((90 + STEADY))"
# 4. Spike: a short burst well above the plateau, then back down.
printf "0,%d\n20,%d\n50,%d\n170,%d\n" "$LOW" "$PEAK" "$LOW" "$LOW" >"$OUT/spike.csv"
run_profile spike "$OUT/spike.csv" ""
echo; echo "logs and data: $OUT"
exit "$status"
