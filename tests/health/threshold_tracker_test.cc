#include "health/threshold_tracker.h"

#include <gtest/gtest.h>

#include "health/probe.h"

namespace ballast::health {
namespace {

TEST(ThresholdTrackerTest, InitialBecomesHealthyAfterEnoughPasses) {
  ThresholdTracker t(3, 2);
  EXPECT_EQ(t.state(), TargetHealth::kInitial);
  EXPECT_FALSE(t.record(true, HealthReason::kNone));
  EXPECT_FALSE(t.record(true, HealthReason::kNone));
  EXPECT_TRUE(t.record(true, HealthReason::kNone));
  EXPECT_EQ(t.state(), TargetHealth::kHealthy);
}

TEST(ThresholdTrackerTest, ConsecutiveFailuresMakeItUnhealthyWithTheReason) {
  ThresholdTracker t(1, 3);
  t.record(true, HealthReason::kNone);
  EXPECT_FALSE(t.record(false, HealthReason::kTimeout));
  EXPECT_FALSE(t.record(false, HealthReason::kTimeout));
  EXPECT_FALSE(t.record(true, HealthReason::kNone)) << "a pass resets the failure count";
  EXPECT_FALSE(t.record(false, HealthReason::kStatus));
  EXPECT_FALSE(t.record(false, HealthReason::kStatus));
  EXPECT_TRUE(t.record(false, HealthReason::kStatus));
  EXPECT_EQ(t.state(), TargetHealth::kUnhealthy);
  EXPECT_EQ(t.reason(), HealthReason::kStatus);
  EXPECT_FALSE(t.record(false, HealthReason::kConnectRefused));
  EXPECT_EQ(t.reason(), HealthReason::kConnectRefused) << "the latest reason is kept";
}

TEST(ThresholdTrackerTest, InitialCanGoStraightToUnhealthy) {
  ThresholdTracker t(5, 2);
  t.record(false, HealthReason::kConnectRefused);
  EXPECT_TRUE(t.record(false, HealthReason::kConnectRefused));
  EXPECT_EQ(t.state(), TargetHealth::kUnhealthy);
}

TEST(ThresholdTrackerTest, UnhealthyRecoversAfterHealthyThreshold) {
  ThresholdTracker t(2, 1);
  t.record(false, HealthReason::kStatus);
  EXPECT_FALSE(t.record(true, HealthReason::kNone));
  EXPECT_FALSE(t.record(false, HealthReason::kStatus)) << "a failure resets the pass count";
  EXPECT_FALSE(t.record(true, HealthReason::kNone));
  EXPECT_TRUE(t.record(true, HealthReason::kNone));
  EXPECT_EQ(t.state(), TargetHealth::kHealthy);
  EXPECT_EQ(t.reason(), HealthReason::kNone);
}

TEST(TargetHealthTest, NamesAsAlbDoes) {
  EXPECT_STREQ(to_string(TargetHealth::kInitial), "initial");
  EXPECT_STREQ(to_string(TargetHealth::kUnhealthy), "unhealthy");
  EXPECT_STREQ(to_string(HealthReason::kTimeout), "timeout");
}

TEST(StatusMatcherTest, Ranges) {
  std::vector<std::pair<int, int>> m = {{200, 299}, {302, 302}};
  EXPECT_TRUE(status_matches(m, 200));
  EXPECT_TRUE(status_matches(m, 302));
  EXPECT_FALSE(status_matches(m, 301));
  EXPECT_FALSE(status_matches(m, 503));
}

}  // namespace
}  // namespace ballast::health
