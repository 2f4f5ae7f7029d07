#pragma once
#include <atomic>
#include <cstdint>

namespace ballast::metrics {

// A count written by one thread (its worker) and read by another (the control thread).
// The write is a relaxed load and store, not a read-modify-write: with a single writer no
// increment is lost, and on x86 it compiles to a plain add, with no lock prefix and no
// cache line bouncing between cores.
class Counter {
 public:
  void add(uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A level (connections open, requests in flight), single writer like Counter.
class Gauge {
 public:
  void add(int64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  int64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace ballast::metrics
