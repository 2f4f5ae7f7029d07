#include "lb/slow_start.h"

#include <gtest/gtest.h>

#include <vector>

#include "lb/smooth_weighted_round_robin.h"

namespace ballast::lb {
namespace {

TEST(SlowStartTest, RampIsLinearFromTheMinimumShare) {
  EXPECT_EQ(SlowStart::ramped_weight(1000, 0, 10000, 10), 100u);
  EXPECT_EQ(SlowStart::ramped_weight(1000, 500, 10000, 10), 100u) << "never below the minimum";
  EXPECT_EQ(SlowStart::ramped_weight(1000, 5000, 10000, 10), 500u);
  EXPECT_EQ(SlowStart::ramped_weight(1000, 10000, 10000, 10), 1000u);
  EXPECT_EQ(SlowStart::ramped_weight(100, 0, 10000, 1), 1u);
  EXPECT_EQ(SlowStart::ramped_weight(0, 5000, 10000, 10), 0u);
}

TEST(SlowStartTest, OnlyTheNewTargetRampsAndTheRampEnds) {
  SlowStart s(10000, 10, 2);
  std::vector<TargetState> states(2);
  std::vector<uint32_t> base = {1, 3};
  s.apply(states, base, 0);
  EXPECT_EQ(states[0].weight, 100u);
  EXPECT_EQ(states[1].weight, 300u);
  s.begin(1, 1000);
  EXPECT_TRUE(s.ramping());
  s.apply(states, base, 1000);
  EXPECT_EQ(states[1].weight, 30u);
  s.apply(states, base, 6000);
  EXPECT_EQ(states[1].weight, 150u);
  EXPECT_EQ(states[0].weight, 100u);
  s.apply(states, base, 11000);
  EXPECT_EQ(states[1].weight, 300u);
  EXPECT_FALSE(s.ramping());
}

TEST(SlowStartTest, TrafficShareFollowsTheRamp) {
  SlowStart s(10000, 10, 2);
  std::vector<TargetState> states(2);
  std::vector<uint32_t> base = {1, 1};
  SmoothWeightedRoundRobin b;
  s.begin(1, 0);
  auto share_at = [&](int64_t now) {
    s.apply(states, base, now);
    int to_new = 0;
    for (int i = 0; i < 1000; ++i) to_new += b.pick(states, {}) == 1;
    return to_new / 1000.0;
  };
  EXPECT_NEAR(share_at(0), 0.1 / 1.1, 0.01);
  EXPECT_NEAR(share_at(5000), 0.5 / 1.5, 0.01);
  EXPECT_NEAR(share_at(10000), 0.5, 0.01);
}

}  // namespace
}  // namespace ballast::lb
