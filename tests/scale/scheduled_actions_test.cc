#include "scale/scheduled_actions.h"

#include <gtest/gtest.h>

#include "core/event_loop.h"
#include "fakes.h"

namespace ballast::scale {
namespace {

TEST(ScheduledActionsTest, DueInTheActionsTimeZone) {
  std::string error;
  auto nine = core::CronSchedule::parse("0 9 * * *", &error);
  auto ny = core::TimeZone::load("America/New_York", &error);
  ASSERT_TRUE(nine && ny) << error;
  // 2026-11-23 14:00 UTC is 09:00 in New York (EST, UTC-5).
  int64_t utc_14 = 1795442400;
  EXPECT_TRUE(due(*nine, *ny, utc_14));
  EXPECT_FALSE(due(*nine, *ny, utc_14 - 3600));
  auto utc = core::TimeZone::load("UTC", &error);
  EXPECT_FALSE(due(*nine, *utc, utc_14));
}

TEST(ScheduledActionsTest, SetsSizesAtTheScheduledMinuteOnce) {
  config::AutoScalingGroupConfig c;
  c.name = "web";
  c.min_size = 1;
  c.max_size = 4;
  c.desired_capacity = 1;
  c.launch.fingerprint = "v1";
  config::ScheduledActionConfig morning;
  morning.name = "morning";
  morning.cron = "30 8 * * *";
  morning.time_zone = "Europe/Paris";
  std::string error;
  morning.schedule =
      std::make_shared<const core::CronSchedule>(*core::CronSchedule::parse(morning.cron, &error));
  morning.zone =
      std::make_shared<const core::TimeZone>(*core::TimeZone::load(morning.time_zone, &error));
  morning.min_size = 3;
  morning.max_size = 8;
  morning.desired_capacity = 3;
  c.scheduled = {morning};
  core::EventLoop loop;
  testing::FakeLink link;
  auto provider = std::make_shared<testing::FakeProvider>();
  ScalingGroup group(
      loop, c, [&](const config::LaunchConfig&) { return provider; }, link);
  ScheduledActions actions(c);
  // 2026-11-23 07:29:00 UTC = 08:29 in Paris (CET, UTC+1).
  int64_t t = int64_t{1795418940} * 1000;
  for (int s = 0; s < 180; ++s) actions.run(group, t + s * 1000);
  EXPECT_EQ(group.min_size(), 3);
  EXPECT_EQ(group.max_size(), 8);
  EXPECT_EQ(group.desired(), 3);
  group.set_desired(2, "test");  // below the new min: clamped
  EXPECT_EQ(group.desired(), 3);
  group.set_sizes(1, std::nullopt, 1, "test");
  for (int s = 180; s < 240; ++s) actions.run(group, t + s * 1000);
  EXPECT_EQ(group.desired(), 1) << "08:31 and 08:32: nothing due";
}

}  // namespace
}  // namespace ballast::scale
