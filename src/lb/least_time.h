#pragma once
#include "lb/balancer.h"

namespace ballast::lb {

// least_time (as nginx Plus least_time and Traefik's leasttime): the target with the
// lowest (smoothed time to first byte) x (requests in flight + 1) / weight. A target not
// measured yet is scored with the average of the measured ones, so it is tried without
// being flooded. Ties rotate, so equal targets share the traffic.
class LeastTime final : public Balancer {
 public:
  int pick(std::span<const TargetState> targets, const PickContext& ctx) override;
  const char* name() const override { return "least_time"; }

 private:
  size_t start_ = 0;
};

}  // namespace ballast::lb
