// ip_hash (rendezvous), ring_hash and maglev: stable, weighted, and minimal disruption
// when the set of targets changes.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>

#include "lb/maglev.h"
#include "lb/rendezvous_hash.h"
#include "lb/ring_hash.h"
#include "lb_test_util.h"

namespace ballast::lb {
namespace {

using testing::shares;
using testing::targets_with_weights;

using Factory = std::function<std::unique_ptr<Balancer>(const std::vector<TargetState>&)>;

struct Algo {
  const char* name;
  Factory make;
};

void PrintTo(const Algo& a, std::ostream* os) {
  *os << a.name;
}

class ConsistentHashTest : public ::testing::TestWithParam<Algo> {};

TEST_P(ConsistentHashTest, SameKeySameTarget) {
  auto t = targets_with_weights({1, 1, 1, 1});
  auto b = GetParam().make(t);
  Random keys(99);
  for (int i = 0; i < 1000; ++i) {
    PickContext ctx{keys.next()};
    int first = b->pick(t, ctx);
    EXPECT_GE(first, 0);
    EXPECT_EQ(b->pick(t, ctx), first);
    EXPECT_EQ(GetParam().make(t)->pick(t, ctx), first) << "a rebuilt balancer agrees";
  }
}

TEST_P(ConsistentHashTest, SharesFollowWeights) {
  auto equal = targets_with_weights({1, 1, 1, 1});
  auto b = GetParam().make(equal);
  for (double s : shares(*b, equal, 200000, true)) EXPECT_NEAR(s, 0.25, 0.025);
  auto weighted = targets_with_weights({2, 1, 1});
  auto w = GetParam().make(weighted);
  auto s = shares(*w, weighted, 200000, true);
  EXPECT_NEAR(s[0], 0.5, 0.04);
  EXPECT_NEAR(s[1], 0.25, 0.03);
}

TEST_P(ConsistentHashTest, AddingATargetMovesAboutOneNthOfKeys) {
  auto four = targets_with_weights({1, 1, 1, 1});
  auto five = targets_with_weights({1, 1, 1, 1, 1});
  auto before = GetParam().make(four);
  auto after = GetParam().make(five);
  Random keys(7);
  int moved = 0, moved_to_new = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    PickContext ctx{keys.next()};
    int a = before->pick(four, ctx);
    int b = after->pick(five, ctx);
    if (a != b) {
      ++moved;
      if (b == 4) ++moved_to_new;
    }
  }
  double fraction = static_cast<double>(moved) / n;
  EXPECT_NEAR(fraction, 0.2, 0.04) << "ideal: 1/5 of the keys move";
  EXPECT_GE(moved_to_new, moved * 9 / 10) << "moved keys go to the new target, not elsewhere";
}

TEST_P(ConsistentHashTest, AnUnusableTargetOnlyLosesItsOwnKeys) {
  auto t = targets_with_weights({1, 1, 1, 1});
  auto b = GetParam().make(t);
  auto down = t;
  down[2].eligible = false;
  Random keys(3);
  std::map<int, int> new_home;
  for (int i = 0; i < 50000; ++i) {
    PickContext ctx{keys.next()};
    int a = b->pick(t, ctx);
    int c = b->pick(down, ctx);
    EXPECT_NE(c, 2);
    if (a != 2)
      EXPECT_EQ(a, c) << "keys of healthy targets stay put";
    else
      new_home[c]++;
  }
  EXPECT_EQ(new_home.size(), 3u) << "the lost keys spread over the others";
  for (int i = 0; i < 4; ++i) down[static_cast<size_t>(i)].eligible = false;
  EXPECT_EQ(b->pick(down, PickContext{1}), -1);
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, ConsistentHashTest,
    ::testing::Values(
        Algo{"ip_hash",
             [](const std::vector<TargetState>&) -> std::unique_ptr<Balancer> {
               return std::make_unique<RendezvousHash>();
             }},
        Algo{"ring_hash",
             [](const std::vector<TargetState>& targets) -> std::unique_ptr<Balancer> {
               return std::make_unique<RingHash>(targets);
             }},
        Algo{"maglev",
             [](const std::vector<TargetState>& targets) -> std::unique_ptr<Balancer> {
               return std::make_unique<Maglev>(targets);
             }}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(MaglevTest, TableIsBalancedWithinAFewPercent) {
  auto t = targets_with_weights({1, 1, 1, 1, 1, 1, 1});
  Maglev m(t);
  std::vector<int> counts(t.size());
  for (int32_t e : m.table()) counts[static_cast<size_t>(e)]++;
  const double ideal = static_cast<double>(m.table().size()) / t.size();
  for (int c : counts) EXPECT_NEAR(c, ideal, ideal * 0.02);
}

TEST(MaglevTest, WeightedTable) {
  auto t = targets_with_weights({3, 1});
  Maglev m(t, 5003);
  int heavy = 0;
  for (int32_t e : m.table()) heavy += e == 0;
  EXPECT_NEAR(heavy, 5003 * 0.75, 5003 * 0.01);
}

}  // namespace
}  // namespace ballast::lb
