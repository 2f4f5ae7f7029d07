#include "lb/smooth_weighted_round_robin.h"

namespace ballast::lb {

int SmoothWeightedRoundRobin::pick(std::span<const TargetState> targets, const PickContext&) {
  if (current_.size() != targets.size()) current_.assign(targets.size(), 0);
  int64_t total = 0;
  int best = -1;
  for (size_t i = 0; i < targets.size(); ++i) {
    const TargetState& t = targets[i];
    if (!usable(t)) continue;
    current_[i] += t.weight;
    total += t.weight;
    if (best < 0 || current_[i] > current_[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  if (best >= 0) current_[static_cast<size_t>(best)] -= total;
  return best;
}

}  // namespace ballast::lb
