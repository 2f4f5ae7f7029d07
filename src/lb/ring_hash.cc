#include "lb/ring_hash.h"

#include <algorithm>
#include <cmath>

#include "lb/hash.h"

namespace ballast::lb {

RingHash::RingHash(std::span<const TargetState> targets, size_t points_per_target,
                   size_t max_ring_size) {
  uint64_t total_weight = 0;
  uint32_t min_weight = 0;
  for (const auto& t : targets) {
    total_weight += t.weight;
    if (t.weight > 0 && (min_weight == 0 || t.weight < min_weight)) min_weight = t.weight;
  }
  if (total_weight == 0) return;
  double per_weight = static_cast<double>(std::max<size_t>(points_per_target, 1)) / min_weight;
  per_weight = std::min(per_weight, static_cast<double>(max_ring_size) / total_weight);
  for (size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].weight == 0) continue;
    auto points = static_cast<uint64_t>(std::ceil(per_weight * targets[i].weight));
    for (uint64_t k = 0; k < points; ++k) {
      ring_.push_back(Point{mix64(targets[i].id_hash + 0x9e3779b97f4a7c15ull * (k + 1)),
                            static_cast<uint32_t>(i)});
    }
  }
  std::sort(ring_.begin(), ring_.end(),
            [](const Point& a, const Point& b) { return a.hash < b.hash; });
}

int RingHash::pick(std::span<const TargetState> targets, const PickContext& ctx) {
  if (ring_.empty()) return -1;
  auto it = std::lower_bound(ring_.begin(), ring_.end(), ctx.hash,
                             [](const Point& p, uint64_t h) { return p.hash < h; });
  size_t start = static_cast<size_t>(it - ring_.begin()) % ring_.size();
  for (size_t step = 0; step < ring_.size(); ++step) {
    const Point& p = ring_[(start + step) % ring_.size()];
    if (p.target < targets.size() && usable(targets[p.target])) return static_cast<int>(p.target);
  }
  return -1;
}

}  // namespace ballast::lb
