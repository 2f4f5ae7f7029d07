#include "scale/scheduled_actions.h"

#include <ctime>

namespace ballast::scale {

bool due(const core::CronSchedule& schedule, const core::TimeZone& zone, int64_t minute_unix_s) {
  time_t local = static_cast<time_t>(minute_unix_s + zone.offset_at(minute_unix_s));
  std::tm tm{};
  gmtime_r(&local, &tm);
  return schedule.matches(tm);
}

void ScheduledActions::run(ScalingGroup& group, int64_t unix_ms) {
  int64_t minute = unix_ms / 60000 * 60;
  if (minute == last_minute_) return;
  bool first = last_minute_ < 0;
  last_minute_ = minute;
  if (first) return;  // a minute already under way when ballast started is not run
  for (const auto& a : actions_) {
    if (!due(*a.schedule, *a.zone, minute)) continue;
    group.set_sizes(a.min_size, a.max_size, a.desired_capacity,
                    "scheduled action " + a.name + " (" + a.cron + " " + a.time_zone + ")");
  }
}

}  // namespace ballast::scale
