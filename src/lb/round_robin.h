#pragma once
#include "lb/balancer.h"

namespace ballast::lb {

// Plain rotation over eligible targets of equal weight; O(1) when all are eligible.
class RoundRobin final : public Balancer {
 public:
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "round_robin"; }

 private:
  uint64_t next_ = 0;
};

}  // namespace ballast::lb
