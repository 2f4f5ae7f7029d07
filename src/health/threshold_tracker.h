#pragma once
#include <cstdint>

#include "health/target_health.h"

namespace ballast::health {

// The state machine of one target's active checks, as ALB runs it: a target in
// `initial` or `unhealthy` becomes healthy after `healthy_threshold` consecutive passes;
// one in `initial` or `healthy` becomes unhealthy after `unhealthy_threshold`
// consecutive failures. Pure, so it is tested without sockets or clocks.
class ThresholdTracker {
 public:
  ThresholdTracker(uint32_t healthy_threshold, uint32_t unhealthy_threshold)
      : healthy_threshold_(healthy_threshold), unhealthy_threshold_(unhealthy_threshold) {}

  // Records one check; true when the state changed.
  bool record(bool passed, HealthReason reason);
  TargetHealth state() const { return state_; }
  HealthReason reason() const { return reason_; }

 private:
  uint32_t healthy_threshold_;
  uint32_t unhealthy_threshold_;
  uint32_t passes_ = 0;
  uint32_t failures_ = 0;
  TargetHealth state_ = TargetHealth::kInitial;
  HealthReason reason_ = HealthReason::kNone;
};

}  // namespace ballast::health
