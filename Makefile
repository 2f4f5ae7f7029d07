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

# Every test twice (Release, then AddressSanitizer + UndefinedBehaviorSanitizer), then the
# threaded ones under ThreadSanitizer: scripts/test.sh says how, and how it keeps the time.
SANITIZE_DIR ?= build-asan
TSAN_DIR ?= build-tsan
test: build
	@BUILD_DIR=$(BUILD_DIR) SANITIZE_DIR=$(SANITIZE_DIR) TSAN_DIR=$(TSAN_DIR) JOBS=$(JOBS) \
	  bash scripts/test.sh all

# The threaded tests under ThreadSanitizer alone (part of `make test`).
test-tsan: build
	@BUILD_DIR=$(BUILD_DIR) TSAN_DIR=$(TSAN_DIR) JOBS=$(JOBS) bash scripts/test.sh tsan

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
