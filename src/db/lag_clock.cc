#include "db/lag_clock.h"

namespace ballast::db {

void LagClock::sample(uint64_t position, int64_t now_ms) {
  if (samples_.empty() || position > samples_.back().position) {
    samples_.push_back({now_ms, position});
  }
  // Keep the newest sample older than the window: it dates the oldest positions still asked.
  while (samples_.size() > 1 && samples_[1].at_ms <= now_ms - kWindowMs) samples_.pop_front();
}

int64_t LagClock::lag_ms(uint64_t replayed, int64_t now_ms) const {
  if (samples_.empty() || replayed >= samples_.back().position) return 0;
  // The first sample past `replayed` is when the primary went past it (at the latest).
  for (const Sample& s : samples_) {
    if (s.position > replayed) return now_ms - s.at_ms;
  }
  return 0;
}

}  // namespace ballast::db
