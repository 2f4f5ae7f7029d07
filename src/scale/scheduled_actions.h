#pragma once
#include <cstdint>
#include <vector>

#include "config/config.h"
#include "core/cron.h"
#include "core/time_zone.h"
#include "scale/scaling_group.h"

namespace ballast::scale {

// A group's scheduled actions: at each minute a cron expression names, in its time zone,
// the action sets the group's min, max and desired sizes.
class ScheduledActions {
 public:
  // The actions come parsed (schedule and zone) from the configuration reader.
  explicit ScheduledActions(const config::AutoScalingGroupConfig& config)
      : actions_(config.scheduled) {}
  // Runs the actions due in minutes that began since the last call (at most the
  // current one: a stalled clock does not replay a backlog). Called once a second.
  void run(ScalingGroup& group, int64_t unix_ms);

 private:
  std::vector<config::ScheduledActionConfig> actions_;
  int64_t last_minute_ = -1;
};

// Whether `schedule` fires in the minute starting at `minute_unix_s` (a multiple of 60)
// in time zone `zone`.
bool due(const core::CronSchedule& schedule, const core::TimeZone& zone, int64_t minute_unix_s);

}  // namespace ballast::scale
