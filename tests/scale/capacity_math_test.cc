#include "scale/capacity_math.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ballast::scale {
namespace {

TEST(TargetTrackingTest, DesiredIsCeilOfInServiceTimesMetricOverTarget) {
  EXPECT_EQ(target_tracking_desired(4, 90, 50), 8) << "ceil(4 x 90 / 50) = ceil(7.2)";
  EXPECT_EQ(target_tracking_desired(4, 20, 50), 2) << "ceil(1.6)";
  EXPECT_EQ(target_tracking_desired(3, 100, 50), 6);
  EXPECT_EQ(target_tracking_desired(4, 1, 50), 1) << "never below one while there is load";
}

TEST(TargetTrackingTest, NoChangeWithinTheToleranceBand) {
  EXPECT_FALSE(target_tracking_desired(4, 54, 50)) << "+8% is within 10%";
  EXPECT_FALSE(target_tracking_desired(4, 46, 50));
  EXPECT_EQ(target_tracking_desired(4, 56, 50), 5) << "+12% is not";
  EXPECT_FALSE(target_tracking_desired(0, 90, 50)) << "nothing in service: no ratio";
  EXPECT_FALSE(target_tracking_desired(4, 90, 0));
}

TEST(TargetTrackingTest, HugeMetricsSaturateInsteadOfOverflowing) {
  EXPECT_EQ(target_tracking_desired(4, 1e300, 50), kMaxCapacity);
  EXPECT_EQ(target_tracking_desired(4, 1e12, 1e-300), kMaxCapacity);
  EXPECT_FALSE(target_tracking_desired(4, std::nan(""), 50));
  EXPECT_EQ(adjust(3, 1e300, AdjustmentType::kChangeInCapacity), kMaxCapacity);
  EXPECT_EQ(adjust(3, -1e300, AdjustmentType::kExactCapacity), -kMaxCapacity);
  EXPECT_EQ(adjust(3, 1e300, AdjustmentType::kPercentChangeInCapacity), 3 + kMaxCapacity);
}

TEST(TargetTrackingTest, AStepInLoadIsAnsweredFromTheNewestSecond) {
  // Window 120 (says 3), newest second 400 (says 8): scale out for the load as it is now.
  TrackingAnswer up = target_tracking_now(2, 2, 120, 400, 100);
  EXPECT_EQ(up.desired, 8);
  EXPECT_TRUE(up.from_newest);
  EXPECT_EQ(up.basis, 400);
  // Falling load: the window decides (hold), whatever a quiet newest second says.
  EXPECT_FALSE(target_tracking_now(4, 4, 100, 10, 100).desired);
  // The window says scale in, the newest second is back within tolerance: hold.
  EXPECT_FALSE(target_tracking_now(4, 4, 20, 95, 100).desired);
  // No newest second: the window alone.
  TrackingAnswer window_only = target_tracking_now(2, 2, 250, std::nullopt, 100);
  EXPECT_EQ(window_only.desired, 5);
  EXPECT_FALSE(window_only.from_newest);
}

TEST(StepScalingTest, TheStepHoldingTheDistanceFromTheThresholdApplies) {
  // Threshold 60: +1 from 60 to 80, +3 from 80 on; below the threshold nothing.
  std::vector<StepAdjustment> steps = {{0.0, 20.0, 1}, {20.0, std::nullopt, 3}};
  EXPECT_EQ(step_scaling_desired(4, 65, 60, steps, AdjustmentType::kChangeInCapacity), 5);
  EXPECT_EQ(step_scaling_desired(4, 80, 60, steps, AdjustmentType::kChangeInCapacity), 7)
      << "lower bounds are inclusive";
  EXPECT_FALSE(step_scaling_desired(4, 50, 60, steps, AdjustmentType::kChangeInCapacity));
  std::vector<StepAdjustment> exact = {{std::nullopt, std::nullopt, 10}};
  EXPECT_EQ(step_scaling_desired(4, 99, 60, exact, AdjustmentType::kExactCapacity), 10);
}

TEST(StepScalingTest, PercentChangesRoundTowardZeroButNeverToZero) {
  EXPECT_EQ(adjust(10, 25, AdjustmentType::kPercentChangeInCapacity), 12) << "+2.5 -> +2";
  EXPECT_EQ(adjust(2, 25, AdjustmentType::kPercentChangeInCapacity), 3) << "+0.5 -> +1";
  EXPECT_EQ(adjust(10, -25, AdjustmentType::kPercentChangeInCapacity), 8) << "-2.5 -> -2";
  EXPECT_EQ(adjust(2, -25, AdjustmentType::kPercentChangeInCapacity), 1) << "-0.5 -> -1";
  EXPECT_EQ(adjust(10, 10, AdjustmentType::kPercentChangeInCapacity, 3), 13)
      << "min_magnitude lifts +1 to +3";
}

TEST(BoundsTest, MinMaxAndMaxScaleOutStep) {
  Bounds b{2, 10, 0, 0};
  EXPECT_EQ(bound(4, 20, b), 10);
  EXPECT_EQ(bound(4, 0, b), 2);
  b.max_step = 3;
  EXPECT_EQ(bound(4, 9, b), 7);
  b = Bounds{1, 100, 0, 50};
  EXPECT_EQ(bound(10, 40, b), 15) << "at most half of current capacity per step";
  EXPECT_EQ(bound(1, 40, b), 2) << "a percent step adds at least one";
  EXPECT_EQ(bound(10, 3, b), 3) << "scale-in is not bounded by the step";
}

TEST(StabilizerTest, ScaleOutAtOnceScaleInOnlyAfterTheWindow) {
  Stabilizer s(300000);  // 300 s, AWS's and the HPA's default
  EXPECT_EQ(s.decide(0, 4, 8), 8) << "out: immediately";
  EXPECT_EQ(s.decide(10000, 8, 3), 8) << "8 was recommended 10 s ago";
  EXPECT_EQ(s.decide(200000, 8, 3), 8);
  EXPECT_EQ(s.decide(300001, 8, 3), 3) << "the 8 left the window";
  EXPECT_EQ(s.decide(310000, 3, 5), 5);
}

TEST(StabilizerTest, ScalesInOnlyAsFarAsTheHighestRecentRecommendation) {
  Stabilizer s(60000);
  s.decide(0, 10, 10);
  s.decide(30000, 10, 6);
  EXPECT_EQ(s.decide(61000, 10, 2), 6) << "6 from 31 s ago still stands";
  EXPECT_EQ(s.decide(91000, 6, 2), 2);
}

TEST(CooldownTest, WaitsAfterEachActivity) {
  Cooldown c(300000);
  EXPECT_TRUE(c.ready(0));
  c.started(1000);
  EXPECT_FALSE(c.ready(200000));
  EXPECT_TRUE(c.ready(301000));
}

}  // namespace
}  // namespace ballast::scale
