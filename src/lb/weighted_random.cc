#include "lb/weighted_random.h"

namespace ballast::lb {

int weighted_draw(std::span<const TargetState> targets, Random& random, int exclude) {
  uint64_t total = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (usable(targets[i]) && static_cast<int>(i) != exclude) total += targets[i].weight;
  }
  if (total == 0) return -1;
  uint64_t point = random.below(total);
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!usable(targets[i]) || static_cast<int>(i) == exclude) continue;
    if (point < targets[i].weight) return static_cast<int>(i);
    point -= targets[i].weight;
  }
  return -1;  // unreachable
}

int WeightedRandom::pick(std::span<const TargetState> targets, const PickContext&) {
  return weighted_draw(targets, random_);
}

}  // namespace ballast::lb
