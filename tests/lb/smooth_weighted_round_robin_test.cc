#include "lb/smooth_weighted_round_robin.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ballast::lb {
namespace {

std::vector<TargetState> weighted(std::initializer_list<uint32_t> weights) {
  std::vector<TargetState> t;
  for (uint32_t w : weights) t.push_back(TargetState{w, true, 0});
  return t;
}

TEST(SmoothWeightedRoundRobinTest, NginxSequenceForFiveOneOne) {
  SmoothWeightedRoundRobin b;
  auto t = weighted({5, 1, 1});
  std::string seq;
  for (int i = 0; i < 7; ++i) seq += static_cast<char>('a' + b.pick(t, {}));
  EXPECT_EQ(seq, "aabacaa");
}

TEST(SmoothWeightedRoundRobinTest, SharesMatchWeightsExactlyEveryCycle) {
  SmoothWeightedRoundRobin b;
  auto t = weighted({7, 3, 2, 1});
  for (int cycle = 0; cycle < 5; ++cycle) {
    std::vector<int> counts(4);
    for (int i = 0; i < 13; ++i) counts[b.pick(t, {})]++;
    EXPECT_EQ(counts, (std::vector<int>{7, 3, 2, 1}));
  }
}

// Smoothness: the gap between two picks of a target is never much longer than
// total/weight, and a heavy target never takes more picks in a row than its share allows.
TEST(SmoothWeightedRoundRobinTest, NeverBursts) {
  SmoothWeightedRoundRobin b;
  auto t = weighted({10, 5, 1});
  const int total = 16;
  std::vector<int> last(3, -1);
  int run = 0, prev = -1, longest_run = 0;
  for (int i = 0; i < 1600; ++i) {
    int p = b.pick(t, {});
    if (last[p] >= 0) {
      int gap = i - last[p];
      EXPECT_LE(gap, total / static_cast<int>(t[p].weight) + 1) << "target " << p << " at " << i;
    }
    last[p] = i;
    run = p == prev ? run + 1 : 1;
    prev = p;
    longest_run = std::max(longest_run, run);
  }
  EXPECT_LE(longest_run, 2) << "weight 10 of 16 must interleave, not burst";
}

TEST(SmoothWeightedRoundRobinTest, SkipsIneligibleTargetsAndKeepsRatiosOfTheRest) {
  SmoothWeightedRoundRobin b;
  auto t = weighted({2, 5, 1});
  t[1].eligible = false;
  std::vector<int> counts(3);
  for (int i = 0; i < 300; ++i) counts[b.pick(t, {})]++;
  EXPECT_EQ(counts, (std::vector<int>{200, 0, 100}));
  t[0].eligible = t[2].eligible = false;
  EXPECT_EQ(b.pick(t, {}), -1);
}

}  // namespace
}  // namespace ballast::lb
