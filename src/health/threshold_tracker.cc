#include "health/threshold_tracker.h"

namespace ballast::health {

bool ThresholdTracker::record(bool passed, HealthReason reason) {
  if (passed) {
    failures_ = 0;
    ++passes_;
    if (state_ != TargetHealth::kHealthy && passes_ >= healthy_threshold_) {
      state_ = TargetHealth::kHealthy;
      reason_ = HealthReason::kNone;
      return true;
    }
    return false;
  }
  passes_ = 0;
  ++failures_;
  if (state_ == TargetHealth::kUnhealthy) {
    reason_ = reason;  // still unhealthy; keep the latest reason
    return false;
  }
  if (failures_ >= unhealthy_threshold_) {
    state_ = TargetHealth::kUnhealthy;
    reason_ = reason;
    return true;
  }
  return false;
}

}  // namespace ballast::health
