#!/usr/bin/env bash
# `make test` once the Release build is done: every test twice, in the Release build, then
# with AddressSanitizer + UndefinedBehaviorSanitizer (any report fails the run); after them
# the threaded tests under ThreadSanitizer. `make test-tsan` runs the last part alone.
#
# The sanitizer builds are clang's, which also checks every lock with its thread-safety
# analysis (-Wthread-safety; check-thread-safety.sh refuses locks it cannot see).
# Compiling is most of the suite's time on two cores, so:
# - AddressSanitizer builds at -O0 (4 minutes where GCC's at -O1 took 12, for about 25 s
#   more of tests); ThreadSanitizer at -O1, slow as it is without optimisation; -g1 in both.
# - Each sanitizer build runs at the lowest priority (nice 19) while the tests before it run:
#   they wait on sockets, timers and Patroni for about half of their time, and the build
#   takes only the CPU they leave.
# - The integration tests are built once, in Release: under the sanitizers their programs
#   drive an instrumented ballast (BALLAST_BINARY_OVERRIDE), which is the process they test.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
ASAN_DIR=${SANITIZE_DIR:-build-asan}
TSAN_DIR=${TSAN_DIR:-build-tsan}
JOBS=${JOBS:-$(nproc)}

# The testssl.sh audit checks ballast's TLS settings, the same in every build: once is enough.
# The namespace drills (cluster_lab_test.cc, cluster_drill_test.cc) measure keepalived and
# etcd timing and count failed requests against a 500 ms request timeout; ClusterTest runs
# the same cluster code under the sanitizers. Of the database drills (each starts a Patroni
# cluster), the switchover, the silent agent, members from Patroni's keys and roles from
# PostgreSQL run under the sanitizers: between them they cover every database path of
# ballast's own. Of relay: nat's, the frozen Patroni (rules followed through a reload and a
# failover, a fenced member's flows cut) covers what the switchover and the crash add.
ASAN_SKIP='TestsslFindsNothing|ClusterLabTest|ClusterDrillTest|DatabaseTest.ThePrimarys|DatabaseTest.AFailover|DatabaseTest.ALagging|DashboardTest.TheDatabases|NatWriterTest.ASwitchover|NatWriterTest.AFailover'
# Under ThreadSanitizer: the in-process threaded tests (event loop, admin server), built with
# it, and the integration tests whose races would be in ballast (workers, control thread,
# admin API, autoscaler), as Release programs driving a TSan-built ballast.
TSAN_IN_PROCESS='EventLoop|Completion|RateLimiter|StoreTest|DiskTierTest|AdminRouter|AdminServer'
TSAN_DRIVEN='DatabaseTest.APlannedSwitchover|TcpRelayTest|CacheTest.TwoHundred|CacheTest.StaleWhile|CacheTest.TheDiskTier|ReloadTest|ReloadStorm|DrainTest|AdminApi|AutoscalingTest.ASpike|TlsTest.Resumes|TlsTest.CertificateReloads|SlowClientsTest.ConnectionLimits|Http2Test.Attacks|AcmeTest.Proves|ClusterTest.ATargetRegistered|ClusterTest.OneLeader'
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1

configure() {  # dir, optimisation, sanitizer option
  cmake -S . -B "$1" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$2 -g1 -DNDEBUG" \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="$2 -g1 -DNDEBUG" "-D$3=ON" >/dev/null
}

# A build in the background, at the lowest priority, its output in DIR/build.log.
background_build=0
start_build() {  # dir, targets...
  local dir=$1
  shift
  # Its own process group (setsid), so that stopping it stops its compilers too.
  setsid nice -n 19 cmake --build "$dir" -j "$JOBS" --target "$@" >"$dir/build.log" 2>&1 &
  background_build=$!
}
finish_build() {  # dir
  local pid=$background_build
  background_build=0
  if ! wait "$pid"; then
    cat "$1/build.log" >&2
    echo "test.sh: building $1 failed (above)" >&2
    exit 1
  fi
  echo "test.sh: built $1"
}
stop_background_build() {
  [ "$background_build" = 0 ] || kill -- "-$background_build" 2>/dev/null || true
}
trap stop_background_build EXIT

in_dir() {  # dir, command...
  (cd "$1" && shift && "$@")
}
ctest_run() {  # ctest arguments...
  ctest --output-on-failure -j 2 --timeout 300 "$@"
}

tsan_tests() {
  in_dir "$TSAN_DIR" ctest_run -R "$TSAN_IN_PROCESS" -E "$TSAN_DRIVEN|NOT_BUILT"
  BALLAST_BINARY_OVERRIDE=$PWD/$TSAN_DIR/ballast in_dir "$BUILD_DIR" ctest_run -R "$TSAN_DRIVEN"
}
tsan_targets=(ballast core_tests admin_tests cache_tests)

case "${1:-all}" in
  all)
    bash scripts/check-thread-safety.sh
    configure "$ASAN_DIR" -O0 BALLAST_SANITIZE
    start_build "$ASAN_DIR" ballast unit_tests fuzz_replays
    in_dir "$BUILD_DIR" ctest_run
    finish_build "$ASAN_DIR"

    configure "$TSAN_DIR" -O1 BALLAST_TSAN
    start_build "$TSAN_DIR" "${tsan_targets[@]}"
    in_dir "$ASAN_DIR" ctest_run -L unit
    BALLAST_BINARY_OVERRIDE=$PWD/$ASAN_DIR/ballast in_dir "$BUILD_DIR" \
      ctest_run -L integration -E "$ASAN_SKIP"
    finish_build "$TSAN_DIR"
    tsan_tests
    ;;
  tsan)
    configure "$TSAN_DIR" -O1 BALLAST_TSAN
    start_build "$TSAN_DIR" "${tsan_targets[@]}"
    finish_build "$TSAN_DIR"
    tsan_tests
    ;;
  *)
    echo "usage: $0 [all|tsan]" >&2
    exit 2
    ;;
esac
