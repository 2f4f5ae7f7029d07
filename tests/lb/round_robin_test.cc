#include "lb/round_robin.h"

#include <gtest/gtest.h>

#include <vector>

#include "lb/balancer_factory.h"

namespace ballast::lb {
namespace {

TEST(RoundRobinTest, RotatesOverAllTargets) {
  RoundRobin rr;
  std::vector<TargetState> t(3);
  std::vector<int> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(rr.pick(t, {}));
  EXPECT_EQ(picks, (std::vector<int>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinTest, SkipsIneligibleAndZeroWeightTargets) {
  RoundRobin rr;
  std::vector<TargetState> t(4);
  t[1].eligible = false;
  t[3].weight = 0;
  std::vector<int> counts(4);
  for (int i = 0; i < 100; ++i) counts[rr.pick(t, {})]++;
  EXPECT_EQ(counts, (std::vector<int>{50, 0, 50, 0}));
}

TEST(RoundRobinTest, NoEligibleTargetGivesMinusOne) {
  RoundRobin rr;
  std::vector<TargetState> t(2);
  t[0].eligible = t[1].eligible = false;
  EXPECT_EQ(rr.pick(t, {}), -1);
  EXPECT_EQ(rr.pick({}, {}), -1);
}

TEST(BalancerFactoryTest, ParsesNamesAndHonoursWeights) {
  Algorithm a;
  EXPECT_TRUE(parse_algorithm("round_robin", &a));
  EXPECT_EQ(a, Algorithm::kRoundRobin);
  EXPECT_TRUE(parse_algorithm("weighted_round_robin", &a));
  EXPECT_EQ(a, Algorithm::kWeightedRoundRobin);
  EXPECT_FALSE(parse_algorithm("fastest", &a));
  EXPECT_EQ(algorithm_names().size(), 9u);
  for (std::string_view name : algorithm_names()) {
    ASSERT_TRUE(parse_algorithm(name, &a)) << name;
    EXPECT_EQ(algorithm_name(a), name);
  }

  std::vector<TargetState> equal(2), unequal(2);
  unequal[0].weight = 3;
  EXPECT_STREQ(make_balancer(Algorithm::kRoundRobin, equal)->name(), "round_robin");
  // Weights apply to every algorithm: round robin over unequal weights is weighted.
  EXPECT_STREQ(make_balancer(Algorithm::kRoundRobin, unequal)->name(), "weighted_round_robin");
}

}  // namespace
}  // namespace ballast::lb
