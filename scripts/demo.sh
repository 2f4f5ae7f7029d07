#!/usr/bin/env bash
# The quickstart behind `make demo`: two demo backends on :9001 and :9002, then ballast
# in the foreground with examples/quickstart.yaml until Ctrl-C. Everything it started
# is stopped on the way out.
set -euo pipefail

BALLAST=${1:-build/ballast}
CONFIG=${2:-examples/quickstart.yaml}
BACKEND_PORTS=(9001 9002)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

"$BALLAST" check -q -c "$CONFIG"

for port in "${BACKEND_PORTS[@]}"; do
  if port_busy "$port"; then
    echo "demo: port $port is already in use; stop whatever holds it and try again" >&2
    exit 1
  fi
  "$BALLAST" backend --port "$port" --id "app-$port" &
  pids+=($!)
done
for port in "${BACKEND_PORTS[@]}"; do
  for _ in $(seq 50); do port_busy "$port" && break; sleep 0.1; done
done

cat <<MSG

  ballast quickstart: listener :8080 -> target group "app" (127.0.0.1:9001, 127.0.0.1:9002)

  Try, from another terminal:
    curl -i http://127.0.0.1:8080/              # answered by app-9001, then app-9002, ...
    curl    http://127.0.0.1:8080/echo          # what the target received (X-Forwarded-*, X-Request-Id)
    curl    http://127.0.0.1:8080/sleep?ms=500  # a slow request
    curl -o /dev/null http://127.0.0.1:8080/bytes/1000000000   # 1 GB streamed, never buffered

  Ctrl-C stops ballast (in-flight requests finish first) and the two backends.

MSG

# Not exec: the trap above must still stop the backends when ballast exits.
"$BALLAST" run -c "$CONFIG" &
pids+=($!)
wait "${pids[-1]}"
