#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "lb/balancer.h"

namespace ballast::lb {

// Slow start (ALB's slow_start, Envoy's slow_start_config): a target that has just become
// usable gets a share of its weight that grows linearly from `min_percent` to all of it
// over `window_ms`, so a cold instance is not flooded. Works by lowering the weight the
// algorithms see, so it applies to every algorithm that uses weights per pick.
// Pure: the caller passes the time.
class SlowStart {
 public:
  // Weights are scaled by this so that a ramp from 10% of weight 1 still has steps.
  static constexpr uint32_t kScale = 100;

  SlowStart(int64_t window_ms, uint32_t min_percent, size_t targets)
      : window_ms_(window_ms), min_percent_(min_percent), started_ms_(targets, -1) {}

  // Target i just became usable (health check passed, readmitted after ejection).
  void begin(size_t i, int64_t now_ms) {
    if (started_ms_[i] < 0) ++ramping_;
    started_ms_[i] = now_ms;
  }
  // A position was added (membership grew) or reused by another target: it starts with
  // no ramp in progress.
  void resize(size_t targets) { started_ms_.resize(targets, -1); }
  void forget(size_t i) {
    if (started_ms_[i] >= 0) --ramping_;
    started_ms_[i] = -1;
  }
  // Some target is still ramping: apply() is due on each pick.
  bool ramping() const { return ramping_ > 0; }

  // Writes each target's effective weight (scaled base weight, ramped where due) into
  // `states`; ends ramps that are complete.
  void apply(std::span<TargetState> states, std::span<const uint32_t> base_weights, int64_t now_ms);

  // The ramped weight: base x max(min_percent, elapsed / window), at least 1 if base > 0.
  static uint32_t ramped_weight(uint32_t scaled_base, int64_t elapsed_ms, int64_t window_ms,
                                uint32_t min_percent);

 private:
  int64_t window_ms_;
  uint32_t min_percent_;
  std::vector<int64_t> started_ms_;  // -1: not ramping
  size_t ramping_ = 0;
};

}  // namespace ballast::lb
