#include "core/rate_limiter.h"

#include <algorithm>

namespace ballast::core {

RateLimiter::RateLimiter(uint64_t requests, int64_t period_us, uint64_t burst)
    : interval_us_(
          std::max<int64_t>(1, period_us / static_cast<int64_t>(std::max<uint64_t>(1, requests)))),
      tolerance_us_(interval_us_ * static_cast<int64_t>(std::max<uint64_t>(1, burst) - 1)),
      next_(new std::atomic<int64_t>[kSlots]) {
  for (size_t i = 0; i < kSlots; ++i) next_[i].store(0, std::memory_order_relaxed);
}

RateLimiter::Decision RateLimiter::admit(uint64_t key_hash, int64_t now_us) {
  std::atomic<int64_t>& slot = next_[key_hash & (kSlots - 1)];
  int64_t next = slot.load(std::memory_order_relaxed);
  // Bounded: each failed exchange means another worker admitted a request meanwhile.
  for (int tries = 0; tries < 64; ++tries) {
    int64_t start = std::max(next, now_us);
    if (start - now_us > tolerance_us_) return {false, start - now_us - tolerance_us_};
    if (slot.compare_exchange_weak(next, start + interval_us_, std::memory_order_relaxed))
      return {true, 0};
  }
  return {false, interval_us_};  // contended beyond reason: refuse rather than spin
}

}  // namespace ballast::core
