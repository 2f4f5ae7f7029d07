#include "lb/least_time.h"

namespace ballast::lb {

int LeastTime::pick(std::span<const TargetState> targets, const PickContext&) {
  const size_t n = targets.size();
  if (n == 0) return -1;
  uint64_t measured_sum = 0, measured = 0;
  for (const auto& t : targets) {
    if (usable(t) && t.ewma_us > 0) {
      measured_sum += t.ewma_us;
      ++measured;
    }
  }
  const uint64_t fallback = measured > 0 ? measured_sum / measured : 1;
  int best = -1;
  double best_score = 0;
  start_ = (start_ + 1) % n;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (start_ + k) % n;
    const TargetState& t = targets[i];
    if (!usable(t)) continue;
    uint64_t time = t.ewma_us > 0 ? t.ewma_us : fallback;
    double score = static_cast<double>(time) * (t.in_flight + 1) / t.weight;
    if (best < 0 || score < best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

}  // namespace ballast::lb
