#pragma once
#include <atomic>
#include <cstdint>
#include <memory>

namespace ballast::core {

// A token bucket per key, shared by every worker without a lock: the generic cell rate
// algorithm (GCRA), which keeps one number per key, the theoretical arrival time of the
// next request, and moves it with a compare-and-swap. `requests` per `period_us` on
// average, and up to `burst` at once after a quiet spell. Keys hash into a fixed table, so
// memory is bounded whatever clients send; two keys that meet in a slot share its bucket
// (with 65,536 slots, rarely, and only ever limiting more, never less).
class RateLimiter {
 public:
  static constexpr size_t kSlots = 65536;
  RateLimiter(uint64_t requests, int64_t period_us, uint64_t burst);

  struct Decision {
    bool allowed;
    int64_t retry_after_us;  // when refused: until a request would be allowed
  };
  // One request of `key_hash` (a well-mixed hash of the key) at `now_us` (a monotonic clock).
  Decision admit(uint64_t key_hash, int64_t now_us);

  int64_t interval_us() const { return interval_us_; }

 private:
  int64_t interval_us_;   // between requests at the sustained rate
  int64_t tolerance_us_;  // how far ahead of now the schedule may run: the burst
  std::unique_ptr<std::atomic<int64_t>[]> next_;  // theoretical arrival time, per slot
};

}  // namespace ballast::core
