# Helpers shared by the benchmark scripts (sourced). The caller sets WORK and defines die().

# A template of bench/configs -> file: the port, the targets (T1, T2), the work directory,
# and the TLS settings (BALLAST_TLS, HAPROXY_TLS, NGINX_LISTEN, NGINX_TLS; empty for plain).
render() {  # template, file, port
  sed -e "s|@PORT@|$3|g" -e "s|@T1@|$T1|g" -e "s|@T2@|$T2|g" -e "s|@DIR@|$WORK|g" \
    -e "s|@BALLAST_TLS@|${BALLAST_TLS:-}|" -e "s|@HAPROXY_TLS@|${HAPROXY_TLS:-}|" \
    -e "s|@NGINX_LISTEN@|${NGINX_LISTEN:-}|" -e "s|@NGINX_TLS@|${NGINX_TLS:-}|" "$1" >"$2"
}

# The two demo-backend targets every proxy forwards to (T1, T2; their pids are the first two
# in `pids`).
start_targets() {  # ballast binary
  T1=$(free_port); T2=$(free_port)
  while [[ $T2 == "$T1" ]]; do T2=$(free_port); done
  "$1" backend --port "$T1" --threads 1 --id t1 >"$WORK/t1.log" 2>&1 & pids+=($!)
  "$1" backend --port "$T2" --threads 1 --id t2 >"$WORK/t2.log" 2>&1 & pids+=($!)
  wait_port "$T1"; wait_port "$T2"
}

# ballast, haproxy and nginx from the templates, each on one thread (PORT and PID by name).
start_proxies() {  # ballast binary
  PORT[ballast]=$(free_port)
  render "$BENCH_DIR/configs/ballast.yaml.in" "$WORK/ballast.yaml" "${PORT[ballast]}"
  "$1" run -c "$WORK/ballast.yaml" >"$WORK/ballast.log" 2>&1 & pids+=($!); PID[ballast]=$!
  PORT[haproxy]=$(free_port)
  render "$BENCH_DIR/configs/haproxy.cfg.in" "$WORK/haproxy.cfg" "${PORT[haproxy]}"
  haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 & pids+=($!); PID[haproxy]=$!
  PORT[nginx]=$(free_port)
  render "$BENCH_DIR/configs/nginx.conf.in" "$WORK/nginx.conf" "${PORT[nginx]}"
  nginx -p "$WORK" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 & pids+=($!); PID[nginx]=$!
  for v in ballast haproxy nginx; do wait_port "${PORT[$v]}"; done
}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

free_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
  die "no free port found"
}

wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  tail -n 5 "$WORK"/*.log >&2 || true
  die "nothing listens on port $1"
}

# CPU time (user + system) of a process and its children, in clock ticks.
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    [[ -r /proc/$pid/stat ]] || continue
    # Fields after the ")" that closes the command name: utime is 12th, stime 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
