#pragma once
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "config/config.h"

namespace ballast::scale {

// The arithmetic of Auto Scaling policies, pure: the caller gives the time, the capacity
// and the metric, so every rule is tested with a fake clock.

// Capacities this arithmetic returns stay within +-kMaxCapacity (a group's max_size bounds
// them further), so no metric or adjustment, however large, overflows an int.
constexpr int kMaxCapacity = 1000000;

// Target tracking: desired = ceil(in_service x metric / target), as AWS and the
// Kubernetes HPA compute it. Within the tolerance band around the target (0.1: +-10%)
// the answer is "no change" (nullopt), so noise does not move capacity.
std::optional<int> target_tracking_desired(int in_service, double metric, double target,
                                           double tolerance = 0.1);

// Target tracking over a window and its newest complete second. Scale-out answers the load
// as it is now: when the newest second is above the window (whose older, quieter seconds
// would make the first action too small), the higher recommendation wins. Scale-in keeps the
// window, and holds while the newest second is back within the tolerance.
struct TrackingAnswer {
  std::optional<int> desired;  // nullopt: hold
  double basis = 0;            // the metric value it came from
  bool from_newest = false;    // that value is the newest second's
};
TrackingAnswer target_tracking_now(int in_service, int current, double window,
                                   std::optional<double> newest, double target,
                                   double tolerance = 0.1);

// Step scaling (AWS): the alarm's metric sits some distance from its threshold; the step
// whose [lower, upper) interval holds that distance gives the adjustment. The types are the
// configuration's, so a policy's steps are used as they were read.
using StepAdjustment = config::StepConfig;
using AdjustmentType = config::ScalingPolicyConfig::Adjustment;

// The capacity a step policy asks for; nullopt when no step holds the distance.
// `min_magnitude`: PercentChangeInCapacity moves at least this many instances.
std::optional<int> step_scaling_desired(int current, double metric, double threshold,
                                        const std::vector<StepAdjustment>& steps,
                                        AdjustmentType type, int min_magnitude = 0);

// Applies an adjustment of `type` to `current` (simple scaling, and each step).
int adjust(int current, double adjustment, AdjustmentType type, int min_magnitude = 0);

// Bounds a change: within [min_size, max_size], and a scale-out of at most `max_step`
// instances (or `max_step_percent` of current capacity, at least one) per decision.
struct Bounds {
  int min_size = 0;
  int max_size = 1;
  int max_step = 0;          // 0: no bound
  int max_step_percent = 0;  // 0: no bound
};
int bound(int current, int desired, const Bounds& b);

// Scale-in stabilization (the Kubernetes HPA's downscale window): scale-out follows the
// highest recommendation at once; scale-in goes only as low as the highest recommendation
// seen over the window, so one quiet moment does not remove capacity a busy one needs.
class Stabilizer {
 public:
  explicit Stabilizer(int64_t window_ms) : window_ms_(window_ms) {}
  // Records this moment's recommendation (the highest of all policies) and returns the
  // capacity to move to.
  int decide(int64_t now_ms, int current, int recommendation);

 private:
  int64_t window_ms_;
  std::deque<std::pair<int64_t, int>> recent_;  // (time, recommendation), oldest first
};

// Simple scaling's cooldown (AWS): after an activity, the policy waits this long before it
// acts again; alarms that fire meanwhile are ignored.
class Cooldown {
 public:
  explicit Cooldown(int64_t cooldown_ms) : cooldown_ms_(cooldown_ms) {}
  bool ready(int64_t now_ms) const { return !last_ms_ || now_ms - *last_ms_ >= cooldown_ms_; }
  // The start may lie before this clock's zero (a successor's: another node's action).
  void started(int64_t now_ms) { last_ms_ = now_ms; }
  std::optional<int64_t> started_ms() const { return last_ms_; }
  // A new length (a reload); the cooldown already running keeps its start.
  void set_length(int64_t cooldown_ms) { cooldown_ms_ = cooldown_ms; }

 private:
  int64_t cooldown_ms_;
  std::optional<int64_t> last_ms_;
};

}  // namespace ballast::scale
