#include "lb/round_robin.h"

namespace ballast::lb {

int RoundRobin::pick(std::span<const TargetState> targets, const PickContext&) {
  const size_t n = targets.size();
  for (size_t tries = 0; tries < n; ++tries) {
    size_t i = next_++ % n;
    if (usable(targets[i])) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ballast::lb
