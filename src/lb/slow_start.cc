#include "lb/slow_start.h"

#include <algorithm>

namespace ballast::lb {

uint32_t SlowStart::ramped_weight(uint32_t scaled_base, int64_t elapsed_ms, int64_t window_ms,
                                  uint32_t min_percent) {
  if (scaled_base == 0) return 0;
  if (window_ms <= 0 || elapsed_ms >= window_ms) return scaled_base;
  double share = std::max(static_cast<double>(min_percent) / 100.0,
                          static_cast<double>(std::max<int64_t>(elapsed_ms, 0)) / window_ms);
  return std::max<uint32_t>(1, static_cast<uint32_t>(scaled_base * std::min(share, 1.0)));
}

void SlowStart::apply(std::span<TargetState> states, std::span<const uint32_t> base_weights,
                      int64_t now_ms) {
  for (size_t i = 0; i < states.size(); ++i) {
    uint32_t scaled = base_weights[i] * kScale;
    if (started_ms_[i] < 0) {
      states[i].weight = scaled;
      continue;
    }
    int64_t elapsed = now_ms - started_ms_[i];
    if (elapsed >= window_ms_) {
      started_ms_[i] = -1;
      --ramping_;
      states[i].weight = scaled;
      continue;
    }
    states[i].weight = ramped_weight(scaled, elapsed, window_ms_, min_percent_);
  }
}

}  // namespace ballast::lb
