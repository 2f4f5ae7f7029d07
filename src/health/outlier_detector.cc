#include "health/outlier_detector.h"

#include <algorithm>

namespace ballast::health {

OutlierDetector::OutlierDetector(const config::OutlierDetectionConfig& config, size_t targets)
    : config_(config), targets_(targets), members_(targets) {}

void OutlierDetector::forget(size_t i) {
  if (targets_[i].ejected_until_ms != 0) --ejected_;
  targets_[i] = Target{};
}

size_t OutlierDetector::max_ejected() const {
  return std::max<size_t>(1, members_ * config_.max_ejection_percent / 100);
}

bool OutlierDetector::record(size_t i, bool failed, int64_t now_ms) {
  Target& t = targets_[i];
  if (!failed) {
    t.consecutive = 0;
    if (t.ejections > 0 && t.ejected_until_ms == 0 &&
        now_ms - t.clean_since_ms >= config_.max_ejection_ms) {
      t.ejections = 0;  // clean for long enough: the next ejection starts from the base
    }
    return false;
  }
  if (t.ejected_until_ms != 0) return false;  // in-flight requests finishing after ejection
  if (++t.consecutive < config_.consecutive_failures) return false;
  if (ejected_ >= max_ejected()) return false;
  ++t.ejections;
  t.last_ejection_ms =
      std::min<int64_t>(config_.base_ejection_ms * t.ejections, config_.max_ejection_ms);
  t.ejected_until_ms = now_ms + t.last_ejection_ms;
  t.consecutive = 0;
  ++ejected_;
  next_readmit_ms_ = std::min(next_readmit_ms_, t.ejected_until_ms);
  return true;
}

bool OutlierDetector::readmit(int64_t now_ms) {
  if (now_ms < next_readmit_ms_) return false;
  bool changed = false;
  next_readmit_ms_ = std::numeric_limits<int64_t>::max();
  for (Target& t : targets_) {
    if (t.ejected_until_ms == 0) continue;
    if (t.ejected_until_ms <= now_ms) {
      t.ejected_until_ms = 0;
      t.clean_since_ms = now_ms;
      --ejected_;
      changed = true;
    } else {
      next_readmit_ms_ = std::min(next_readmit_ms_, t.ejected_until_ms);
    }
  }
  return changed;
}

}  // namespace ballast::health
