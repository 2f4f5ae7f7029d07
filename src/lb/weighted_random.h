#pragma once
#include "lb/balancer.h"
#include "lb/hash.h"

namespace ballast::lb {

// Picks a usable target at random, with probability proportional to its weight.
class WeightedRandom final : public Balancer {
 public:
  explicit WeightedRandom(uint64_t seed) : random_(seed) {}
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "random"; }

 private:
  Random random_;
};

// One weighted random draw among usable targets, skipping `exclude` (-1: none).
int weighted_draw(std::span<const TargetState> targets, Random& random, int exclude = -1);

}  // namespace ballast::lb
