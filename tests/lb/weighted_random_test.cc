#include "lb/weighted_random.h"

#include <gtest/gtest.h>

#include "lb_test_util.h"

namespace ballast::lb {
namespace {

using testing::shares;
using testing::targets_with_weights;

TEST(WeightedRandomTest, SharesFollowWeights) {
  WeightedRandom b(1);
  auto t = targets_with_weights({5, 3, 2});
  auto s = shares(b, t, 200000, false);
  EXPECT_NEAR(s[0], 0.5, 0.01);
  EXPECT_NEAR(s[1], 0.3, 0.01);
  EXPECT_NEAR(s[2], 0.2, 0.01);
}

TEST(WeightedRandomTest, SkipsUnusableTargets) {
  WeightedRandom b(2);
  auto t = targets_with_weights({1, 1, 0});
  t[0].eligible = false;
  auto s = shares(b, t, 1000, false);
  EXPECT_EQ(s[1], 1.0);
  t[1].eligible = false;
  EXPECT_EQ(b.pick(t, {}), -1);
}

}  // namespace
}  // namespace ballast::lb
