#!/usr/bin/env bash
# Installs every Debian package ballast needs to build, test, demo and benchmark.
# Safe to run twice: packages already present are skipped without touching apt.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang clang-format
  node-llhttp               # llhttp C sources: HTTP/1 parsing
  libyaml-cpp-dev           # configuration files
  nlohmann-json3-dev        # JSON (admin API, load generator output)
  libcli11-dev              # command line
  libssl-dev openssl        # TLS termination; tests make their throwaway CAs with openssl
  libgtest-dev libgmock-dev # tests
  libbenchmark-dev          # micro-benchmarks
  curl procps               # integration tests and demo
  python3 tzdata            # the exec provider example script; scheduled actions' time zones
  wrk haproxy nginx-light   # make bench: the proxies we measure against
  varnish                   # the cache reference: differential tests and make bench
  gnuplot-nox               # make bench-autoscale: the supply/demand/latency plots
  prometheus                # promtool checks the /metrics exposition in the tests
  testssl.sh                # the TLS test audits a listener's protocols and ciphers
  python3-websockets        # WebSocket peers on both sides of ballast in the tunnel tests
  libnghttp2-dev            # HTTP/2 to clients
  zlib1g-dev libbrotli-dev libzstd-dev  # response compression: gzip, br, zstd
  nghttp2-client            # h2load, nghttp: HTTP/2 clients for the tests and make bench
  python3-h2                # hpack: the frame-level HTTP/2 peer of the attack tests
  pebble                    # ACME test CA (and its DNS): automatic certificates end to end
  chromium                  # the dashboard test loads the page headless
  etcd-server etcd-client   # clusters: the shared store the nodes watch (etcdctl in the tests)
  keepalived iproute2       # clusters: the virtual IP, and the namespaces of the failure drills
  postgresql-15 postgresql-client-15 postgresql-contrib  # database endpoints: PostgreSQL, psql, pgbench
  patroni python3-etcd      # database endpoints: the engine that elects the primary (etcd as its DCS)
  libpq-dev                 # database endpoints: the failover tests' writer client
  libbpf-dev                # the kernel relay: loads its eBPF sockmap program (clang compiles it)
  libnftables-dev libnetfilter-conntrack-dev  # relay: nat: the writer's DNAT rules, and cutting a fenced primary's flows
  nftables conntrack        # relay: nat: nft and conntrack, to look at those rules and flows by hand
  libcap2-bin               # capsh: the tcp tests run ballast without the capabilities BPF needs
)

missing=()
# The dashboard's chart library comes from the npm registry. Machines that already have
# Node.js and npm (from NodeSource, say) keep theirs: Debian's npm would conflict.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian nginx, haproxy and prometheus packages start system services; ballast's
# benchmark and tests run their own instances on free ports, so those are not needed.
for svc in nginx haproxy prometheus varnish etcd keepalived postgresql patroni; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  elif [ -x "/etc/init.d/$svc" ]; then
    $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done
