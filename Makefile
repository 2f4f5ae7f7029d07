# The two commands a new user runs: `make demo` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)

.PHONY: all deps build demo demo-cluster demo-db test test-tsan bench bench-autoscale bench-cluster bench-db bench-micro fuzz format clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD_DIR)/ballast examples/quickstart.yaml

# Three nodes sharing one configuration through etcd, on loopback (docs/cluster.md).
demo-cluster: build
	@bash scripts/demo-cluster.sh $(BUILD_DIR)/ballast

# A Patroni cluster of PostgreSQL 15 with ballast's writer and reader endpoints in front of
# it, on loopback (docs/databases.md). Runs as root: Patroni runs as the postgres user.
demo-db: build
	@bash scripts/demo-db.sh $(BUILD_DIR)/ballast

# Every test twice: in the Release build, then with AddressSanitizer + UndefinedBehavior-
# Sanitizer (any report fails the run): the unit tests and fuzz replays built instrumented,
# and the integration tests' Release programs driving an instrumented ballast
# (BALLAST_BINARY_OVERRIDE), which is the process they test; building them a second time
# cost about 2.5 minutes of every run.
# Between them, clang's thread-safety analysis of every lock (scripts/check-thread-safety.sh);
# after them, the threaded tests (workers, control thread, admin API, autoscaler) under
# ThreadSanitizer, with ballast itself instrumented and stopped by its first report.
# The sanitizer builds use -O1 -g1 (line tables for reports): they compile about 40% faster
# than -O2 -g, which is most of the suite's time on two cores.
SANITIZE_DIR ?= build-asan
TSAN_DIR ?= build-tsan
SANITIZER_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
TSAN_IN_PROCESS = EventLoop|Completion|RateLimiter|StoreTest|DiskTierTest|AdminRouter|AdminServer
TSAN_DRIVEN = DatabaseTest.APlannedSwitchover|TcpRelayTest|CacheTest.TwoHundred|CacheTest.StaleWhile|CacheTest.TheDiskTier|ReloadTest|ReloadStorm|DrainTest|AdminApi|AutoscalingTest.ASpike|TlsTest.Resumes|TlsTest.CertificateReloads|SlowClientsTest.ConnectionLimits|Http2Test.Attacks|AcmeTest.Proves|ClusterTest.ATargetRegistered|ClusterTest.OneLeader
# The testssl.sh audit checks ballast's TLS settings, the same in every build: once is enough.
# The namespace drills (cluster_lab_test.cc, cluster_drill_test.cc) measure keepalived and
# etcd timing and count failed requests against a 500 ms request timeout; ClusterTest runs
# the same cluster code under the sanitizers. Of the database drills (each starts a Patroni cluster), the
# switchover, the silent agent, members from Patroni's keys and roles from PostgreSQL run
# under the sanitizers: between them they cover every database path of ballast's own.
ASAN_SKIP = TestsslFindsNothing|ClusterLabTest|ClusterDrillTest|DatabaseTest.ThePrimarys|DatabaseTest.AFailover|DatabaseTest.ALagging|DashboardTest.TheDatabases
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j 2 --timeout 300
	@bash scripts/check-thread-safety.sh $(BUILD_DIR)
	@cmake -S . -B $(SANITIZE_DIR) -G Ninja $(SANITIZER_FLAGS) -DBALLAST_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS) --target ballast unit_tests fuzz_replays
	@cd $(SANITIZE_DIR) && $(ASAN_ENV) ctest --output-on-failure -j 2 --timeout 300 -L unit
	@cd $(BUILD_DIR) && $(ASAN_ENV) BALLAST_BINARY_OVERRIDE=$(abspath $(SANITIZE_DIR))/ballast \
	  ctest --output-on-failure -j 2 --timeout 300 -L integration -E '$(ASAN_SKIP)'
	@$(MAKE) --no-print-directory test-tsan

# The threaded tests under ThreadSanitizer (part of `make test`). The in-process ones
# (event loop, admin server) are built with TSan; the integration tests are the Release
# programs driving a TSan-built ballast (BALLAST_BINARY_OVERRIDE), which is where their races
# would be, and which spares building them a third time.
TSAN_ENV = TSAN_OPTIONS=halt_on_error=1:exitcode=66:second_deadlock_stack=1
test-tsan: build
	@cmake -S . -B $(TSAN_DIR) -G Ninja $(SANITIZER_FLAGS) -DBALLAST_TSAN=ON >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target ballast core_tests admin_tests cache_tests
	@cd $(TSAN_DIR) && $(TSAN_ENV) ctest --output-on-failure -j 2 --timeout 300 \
	  -R '$(TSAN_IN_PROCESS)' -E '$(TSAN_DRIVEN)|NOT_BUILT'
	@cd $(BUILD_DIR) && $(TSAN_ENV) BALLAST_BINARY_OVERRIDE=$(abspath $(TSAN_DIR))/ballast \
	  ctest --output-on-failure -j 2 --timeout 300 -R '$(TSAN_DRIVEN)'

bench: build
	@bash bench/run.sh $(BUILD_DIR)/ballast
	@bash bench/tls.sh $(BUILD_DIR)/ballast
	@bash bench/h2.sh $(BUILD_DIR)/ballast
	@bash bench/cache.sh $(BUILD_DIR)/ballast

# The elasticity benchmark: step and spike profiles against the quickstart's autoscaling
# group; SPEC RG elasticity metrics and plots in build/bench-autoscale/ (about 8 minutes).
bench-autoscale: build
	@bash bench/autoscale.sh $(BUILD_DIR)/ballast

# The cluster's goals: registry propagation, leader failover, VIP failover (docs/cluster.md).
bench-cluster: build
	@bash bench/cluster.sh $(BUILD_DIR)

# The database endpoints' goals: pgbench against direct and HAProxy, the failover timeline
# (docs/databases.md). Runs as root.
bench-db: build
	@bash bench/db.sh $(BUILD_DIR)/ballast

bench-micro: build
	@$(BUILD_DIR)/bench/codec_bench

# libFuzzer runs (clang, ASan+UBSan), FUZZ_SECONDS each; new inputs land in build-fuzz/,
# crashes in the current directory. Save a crash to fuzz/corpus/<target>/ to keep it tested.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = http_request http_response url_query admin_router config proxy_protocol h2_frames etcd_replies
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBALLAST_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 build-fuzz/corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

format:
	@find src tests bench fuzz \( -name '*.h' -o -name '*.cc' \) | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(TSAN_DIR) build-fuzz
