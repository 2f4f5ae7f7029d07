#include "scale/capacity_math.h"

#include <algorithm>
#include <cmath>

namespace ballast::scale {

std::optional<int> target_tracking_desired(int in_service, double metric, double target,
                                           double tolerance) {
  if (target <= 0 || in_service <= 0 || !std::isfinite(metric)) return std::nullopt;
  double ratio = metric / target;
  if (std::fabs(ratio - 1.0) <= tolerance) return std::nullopt;
  // A tiny epsilon keeps 4 x 0.5 / 0.5 from becoming 4.0000000001 -> 5.
  double desired = std::ceil(in_service * ratio - 1e-9);
  // Saturated before the conversion (a double beyond int's range converts to undefined
  // behaviour); the group's max_size bounds it later anyway.
  return static_cast<int>(std::clamp(desired, 0.0, static_cast<double>(kMaxCapacity)));
}

namespace {
// A capacity computed in floating point, as an int: toward zero, within +-kMaxCapacity (NaN
// counts as no change from zero).
int saturate(double capacity) {
  if (std::isnan(capacity)) return 0;
  return static_cast<int>(std::clamp(capacity, -double{kMaxCapacity}, double{kMaxCapacity}));
}
}  // namespace

TrackingAnswer target_tracking_now(int in_service, int current, double window,
                                   std::optional<double> newest, double target, double tolerance) {
  TrackingAnswer a{target_tracking_desired(in_service, window, target, tolerance), window, false};
  if (!newest || *newest <= window) return a;
  std::optional<int> now = target_tracking_desired(in_service, *newest, target, tolerance);
  if (now && *now > a.desired.value_or(current)) return {now, *newest, true};
  if (!now && a.desired && *a.desired < current) a.desired.reset();
  return a;
}

int adjust(int current, double adjustment, AdjustmentType type, int min_magnitude) {
  switch (type) {
    case AdjustmentType::kChangeInCapacity:
      return saturate(current + adjustment);
    case AdjustmentType::kExactCapacity:
      return saturate(adjustment);
    case AdjustmentType::kPercentChangeInCapacity: {
      double change =
          std::clamp(current * adjustment / 100.0, -double{kMaxCapacity}, double{kMaxCapacity});
      // AWS's rounding: toward zero, but never to zero when the percent is not zero.
      int whole = static_cast<int>(change);
      if (whole == 0 && change > 0) whole = 1;
      if (whole == 0 && change < 0) whole = -1;
      if (min_magnitude > 0 && std::abs(whole) < min_magnitude && whole != 0) {
        whole = whole > 0 ? min_magnitude : -min_magnitude;
      }
      return current + whole;
    }
  }
  return current;
}

std::optional<int> step_scaling_desired(int current, double metric, double threshold,
                                        const std::vector<StepAdjustment>& steps,
                                        AdjustmentType type, int min_magnitude) {
  double distance = metric - threshold;
  for (const auto& s : steps) {
    bool above_lower = !s.lower || distance >= *s.lower;
    bool below_upper = !s.upper || distance < *s.upper;
    if (above_lower && below_upper) return adjust(current, s.adjustment, type, min_magnitude);
  }
  return std::nullopt;
}

int bound(int current, int desired, const Bounds& b) {
  if (desired > current) {
    int step = desired - current;
    if (b.max_step > 0) step = std::min(step, b.max_step);
    if (b.max_step_percent > 0) {
      step = std::min(step, std::max(1, current * b.max_step_percent / 100));
    }
    desired = current + step;
  }
  return std::clamp(desired, b.min_size, std::max(b.min_size, b.max_size));
}

int Stabilizer::decide(int64_t now_ms, int current, int recommendation) {
  recent_.emplace_back(now_ms, recommendation);
  while (!recent_.empty() && now_ms - recent_.front().first > window_ms_) recent_.pop_front();
  if (recommendation >= current) return recommendation;
  int highest = recommendation;
  for (const auto& [t, r] : recent_) highest = std::max(highest, r);
  return std::min(current, highest);
}

}  // namespace ballast::scale
