// least_outstanding_requests, least_connections (power of two choices) and least_time:
// they follow weights when idle and steer away from a slow target under load.
#include <gtest/gtest.h>

#include <deque>

#include "lb/least_time.h"
#include "lb/power_of_two.h"
#include "lb_test_util.h"

namespace ballast::lb {
namespace {

using testing::shares;
using testing::targets_with_weights;

// A discrete-time simulation: one new request per tick; a request to target i lasts
// durations[i] ticks. Returns each target's share of the requests. The balancer sees
// in-flight counts and, for least_time, a smoothed response time per target.
std::vector<double> simulate(Balancer& b, std::vector<TargetState> t,
                             const std::vector<int>& durations, int ticks) {
  std::vector<std::deque<int>> ends(t.size());
  std::vector<double> counts(t.size());
  for (int now = 0; now < ticks; ++now) {
    for (size_t i = 0; i < t.size(); ++i) {
      while (!ends[i].empty() && ends[i].front() <= now) {
        ends[i].pop_front();
        t[i].in_flight--;
        t[i].connections--;
        uint32_t sample = static_cast<uint32_t>(durations[i]) * 1000;
        t[i].ewma_us =
            t[i].ewma_us == 0 ? sample : t[i].ewma_us + (int64_t{sample} - t[i].ewma_us) / 8;
      }
    }
    int p = b.pick(t, {});
    if (p < 0) {
      ADD_FAILURE() << "no target picked";
      return counts;
    }
    auto i = static_cast<size_t>(p);
    counts[i] += 1;
    t[i].in_flight++;
    t[i].connections++;
    ends[i].push_back(now + durations[i]);
  }
  for (auto& c : counts) c /= ticks;
  return counts;
}

TEST(PowerOfTwoTest, IdleTrafficFollowsWeights) {
  PowerOfTwoChoices b(PowerOfTwoChoices::Load::kInFlight, 7);
  auto t = targets_with_weights({3, 1});
  auto s = shares(b, t, 100000, false);
  EXPECT_NEAR(s[0], 0.75, 0.01);
  EXPECT_NEAR(s[1], 0.25, 0.01);
}

TEST(PowerOfTwoTest, PrefersTheLessLoadedOfTwo) {
  PowerOfTwoChoices b(PowerOfTwoChoices::Load::kInFlight, 3);
  auto t = targets_with_weights({1, 1});
  t[0].in_flight = 10;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(b.pick(t, {}), 1);
  PowerOfTwoChoices c(PowerOfTwoChoices::Load::kConnections, 3);
  t[0].in_flight = 0;
  t[1].connections = 5;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(c.pick(t, {}), 0);
}

TEST(PowerOfTwoTest, AvoidsASlowTarget) {
  // Target 0 takes 20 ticks per request, the other three take 2.
  for (auto load : {PowerOfTwoChoices::Load::kInFlight, PowerOfTwoChoices::Load::kConnections}) {
    PowerOfTwoChoices b(load, 11);
    auto s = simulate(b, targets_with_weights({1, 1, 1, 1}), {20, 2, 2, 2}, 20000);
    EXPECT_LT(s[0], 0.15) << b.name() << ": round robin would give it 0.25";
  }
}

TEST(PowerOfTwoTest, WeightsHoldUnderLoad) {
  PowerOfTwoChoices b(PowerOfTwoChoices::Load::kInFlight, 5);
  auto s = simulate(b, targets_with_weights({3, 1}), {8, 8}, 40000);
  EXPECT_NEAR(s[0], 0.75, 0.05);
}

TEST(LeastTimeTest, AvoidsASlowTarget) {
  LeastTime b;
  auto s = simulate(b, targets_with_weights({1, 1, 1, 1}), {20, 2, 2, 2}, 20000);
  EXPECT_LT(s[0], 0.10);
}

TEST(LeastTimeTest, EqualTargetsShareAndUnmeasuredOnesAreTried) {
  LeastTime b;
  auto t = targets_with_weights({1, 1, 1});
  auto s = shares(b, t, 3000, false);
  for (double x : s) EXPECT_NEAR(x, 1.0 / 3, 0.01);
  t[0].ewma_us = 1000;
  t[1].ewma_us = 3000;  // target 2 is unmeasured: scored as the average, 2000
  EXPECT_EQ(b.pick(t, {}), 0);
  t[0].in_flight = 2;  // 3000 x 1 vs 1000 x 3 vs 2000 x 1
  EXPECT_EQ(b.pick(t, {}), 2);
}

}  // namespace
}  // namespace ballast::lb
