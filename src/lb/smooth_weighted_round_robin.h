#pragma once
#include <vector>

#include "lb/balancer.h"

namespace ballast::lb {

// nginx's smooth weighted round robin: every pick adds each target's weight to its
// running score, chooses the highest score and subtracts the total from it. Weights
// 5,1,1 give a a b a c a a rather than a a a a a b c: never a burst to one target.
class SmoothWeightedRoundRobin final : public Balancer {
 public:
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "weighted_round_robin"; }

 private:
  std::vector<int64_t> current_;
};

}  // namespace ballast::lb
