#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include "config/config.h"

namespace ballast::health {

// Passive health checking (outlier detection, as Envoy calls it): consecutive failed
// requests to a target eject it for base_ejection_time x (times ejected), up to
// max_ejection_time; at most max_ejection_percent of the targets (but always at least one)
// are out at once. A target that stays clean for max_ejection_time starts over from the
// base time. Pure: the caller passes the time, so it is tested without clocks.
class OutlierDetector {
 public:
  OutlierDetector(const config::OutlierDetectionConfig& config, size_t targets);

  // Records one request's outcome; true when it ejected the target.
  bool record(size_t i, bool failed, int64_t now_ms);
  // Readmits every target whose ejection has ended; true when any was.
  bool readmit(int64_t now_ms);
  // Membership changes: a new position starts clean, a reused one forgets its past.
  void resize(size_t targets) { targets_.resize(targets); }
  void forget(size_t i);
  // Lets max_ejection_percent count only the targets that are members now.
  void set_member_count(size_t n) { members_ = n; }
  bool ejected(size_t i) const { return targets_[i].ejected_until_ms != 0; }
  size_t ejected_count() const { return ejected_; }
  int64_t ejection_ms(size_t i) const { return targets_[i].last_ejection_ms; }
  // When the next ejection ends (max int64 when none is ejected).
  int64_t next_readmit_ms() const { return next_readmit_ms_; }

 private:
  struct Target {
    uint32_t consecutive = 0;
    uint32_t ejections = 0;
    int64_t ejected_until_ms = 0;  // 0: not ejected
    int64_t clean_since_ms = 0;    // readmitted at
    int64_t last_ejection_ms = 0;  // length of the latest ejection
  };
  size_t max_ejected() const;

  config::OutlierDetectionConfig config_;
  std::vector<Target> targets_;
  size_t ejected_ = 0;
  size_t members_ = 0;
  int64_t next_readmit_ms_ = std::numeric_limits<int64_t>::max();
};

}  // namespace ballast::health
