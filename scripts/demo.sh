#!/usr/bin/env bash
# The quickstart behind `make demo`: ballast in the foreground with
# examples/quickstart.yaml until Ctrl-C. Its autoscaling group launches the demo backends
# itself (ports 9100-9199) and stops them when ballast stops.
set -euo pipefail

BALLAST=${1:-build/ballast}
CONFIG=${2:-examples/quickstart.yaml}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

"$BALLAST" check -q -c "$CONFIG"
for port in 8080 9901; do
  if port_busy "$port"; then
    echo "demo: port $port is already in use; stop whatever holds it and try again" >&2
    exit 1
  fi
done

cat <<MSG

  ballast quickstart: listener :8080 -> target group "app", whose instances are the
  autoscaling group "app" (2 to 8 \`ballast backend\` processes on ports 9100-9199).

  Dashboard: http://127.0.0.1:9901/      Terminal: $BALLAST ctl top

  Try, from another terminal:
    curl -i http://127.0.0.1:8080/              # X-Ballast-Instance says which instance answered
    $BALLAST ctl instances app                  # the group's instances and policies
    # A spike: 60 -> 500 requests/s for a minute, each holding an instance thread 20 ms. The group scales out,
    # then (60 s after the spike) back in, draining instances first; no request fails.
    $BALLAST load "http://127.0.0.1:8080/block?ms=20" --profile spike \\
        --rate 60 --to 500 --at 15 --spike-duration 60 --duration 150
    $BALLAST ctl activities app                 # what happened, and why

  Ctrl-C stops ballast (in-flight requests finish first) and its instances.

MSG

exec "$BALLAST" run -c "$CONFIG"
