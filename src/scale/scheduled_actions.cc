#include "scale/scheduled_actions.h"

#include <ctime>

#include "core/log.h"

namespace ballast::scale {

bool due(const core::CronSchedule& schedule, const core::TimeZone& zone, int64_t minute_unix_s) {
  time_t local = static_cast<time_t>(minute_unix_s + zone.offset_at(minute_unix_s));
  std::tm tm{};
  gmtime_r(&local, &tm);
  return schedule.matches(tm);
}

ScheduledActions::ScheduledActions(const config::AutoScalingGroupConfig& config) {
  for (const auto& a : config.scheduled) {
    std::string error;
    auto schedule = core::CronSchedule::parse(a.cron, &error);
    auto zone = core::TimeZone::load(a.time_zone, &error);
    if (!schedule || !zone) {  // validation reported it already
      LOG_ERROR("scheduled action \"%s\": %s", a.name.c_str(), error.c_str());
      continue;
    }
    actions_.push_back(Action{a, *schedule, *zone});
  }
}

void ScheduledActions::run(ScalingGroup& group, int64_t unix_ms) {
  int64_t minute = unix_ms / 60000 * 60;
  if (minute == last_minute_) return;
  bool first = last_minute_ < 0;
  last_minute_ = minute;
  if (first) return;  // a minute already under way when ballast started is not run
  for (const auto& a : actions_) {
    if (!due(a.schedule, a.zone, minute)) continue;
    group.set_sizes(
        a.config.min_size, a.config.max_size, a.config.desired_capacity,
        "scheduled action " + a.config.name + " (" + a.config.cron + " " + a.zone.name() + ")",
        unix_ms);
  }
}

}  // namespace ballast::scale
