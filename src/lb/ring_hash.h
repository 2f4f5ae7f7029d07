#pragma once
#include <vector>

#include "lb/balancer.h"

namespace ballast::lb {

// Consistent hashing on a ring (Karger et al.; Ketama): each target owns points on a
// 64-bit ring in proportion to its weight; a key goes to the first point at or after its
// hash. Adding a target moves only the keys that fall to its new points (about 1/n);
// a target that is not usable passes its keys to the next points on the ring.
class RingHash final : public Balancer {
 public:
  // Builds the ring for these targets (their id_hash and weight). The lightest target
  // gets `points_per_target` points and the others proportionally more, up to
  // `max_ring_size` points in all. Points depend on a target's own weight (relative to
  // the lightest), not on how many targets there are, so adding one does not move keys
  // between the others.
  explicit RingHash(std::span<const TargetState> targets, size_t points_per_target = 1024,
                    size_t max_ring_size = size_t{1} << 20);
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "ring_hash"; }

 private:
  struct Point {
    uint64_t hash;
    uint32_t target;
  };
  std::vector<Point> ring_;
};

}  // namespace ballast::lb
