#include "proxy/target_group_runtime.h"

#include <gtest/gtest.h>

#include <map>

#include "lb/hash.h"

namespace ballast::proxy {
namespace {

Member member(const std::string& address, bool healthy = true, bool draining = false,
              uint32_t weight = 1) {
  std::string error;
  using health::TargetHealth;
  return Member{address, *core::SocketAddress::parse(address, &error, false),
                lb::hash_bytes(address), weight,
                draining  ? TargetHealth::kDraining
                : healthy ? TargetHealth::kHealthy
                          : TargetHealth::kUnhealthy};
}

GroupMembership members(std::vector<Member> list, uint64_t version = 1) {
  return GroupMembership{version, std::move(list)};
}

config::TargetGroupConfig group(lb::Algorithm algorithm = lb::Algorithm::kRoundRobin) {
  config::TargetGroupConfig g;
  g.name = "app";
  g.algorithm = algorithm;
  return g;
}

// Picks `n` times and counts by address.
std::map<std::string, int> picks(TargetGroupRuntime& rt, int n) {
  std::map<std::string, int> seen;
  for (int i = 0; i < n; ++i) {
    int t = rt.pick(lb::PickContext{});
    seen[t < 0 ? "none" : rt.target_text(static_cast<size_t>(t))]++;
  }
  return seen;
}

TEST(TargetGroupRuntimeTest, StateStaysWithTheTargetWhenMembershipChanges) {
  core::EventLoop loop;
  auto cfg = group(lb::Algorithm::kLeastOutstandingRequests);
  TargetGroupRuntime rt(loop, std::make_shared<const config::TargetGroupConfig>(cfg));
  rt.apply(members({member("10.0.0.1:80"), member("10.0.0.2:80")}));
  int busy = -1;
  for (size_t i = 0; i < rt.size(); ++i) {
    if (rt.target_text(i) == "10.0.0.2:80") busy = static_cast<int>(i);
  }
  ASSERT_GE(busy, 0);
  for (int k = 0; k < 5; ++k) rt.request_started(static_cast<size_t>(busy));
  // A new target arrives, listed first: positions and counts of the others stay.
  rt.apply(members({member("10.0.0.3:80"), member("10.0.0.1:80"), member("10.0.0.2:80")}, 2));
  EXPECT_EQ(rt.target_text(static_cast<size_t>(busy)), "10.0.0.2:80");
  auto seen = picks(rt, 200);
  EXPECT_EQ(seen["10.0.0.2:80"], 0) << "its 5 requests in flight were not forgotten";
  EXPECT_GT(seen["10.0.0.3:80"], 0);
}

TEST(TargetGroupRuntimeTest, DrainingTargetsGetNothingAndReportWhenDone) {
  core::EventLoop loop;
  auto cfg = group();
  TargetGroupRuntime rt(loop, std::make_shared<const config::TargetGroupConfig>(cfg));
  std::vector<std::pair<uint64_t, uint64_t>> drained;
  rt.on_drained([&](uint64_t id, uint64_t version) { drained.emplace_back(id, version); });
  rt.apply(members({member("10.0.0.1:80"), member("10.0.0.2:80")}));
  int b = rt.pick(lb::PickContext{});
  rt.request_started(static_cast<size_t>(b));
  std::string b_name = rt.target_text(static_cast<size_t>(b));
  std::string a_name = b_name == "10.0.0.1:80" ? "10.0.0.2:80" : "10.0.0.1:80";
  rt.apply(members({member(a_name), member(b_name, true, /*draining=*/true)}, 7));
  EXPECT_EQ(picks(rt, 20)[a_name], 20);
  EXPECT_TRUE(drained.empty()) << "a request is still in flight";
  rt.request_finished(static_cast<size_t>(b));
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained[0].first, lb::hash_bytes(b_name));
  EXPECT_EQ(drained[0].second, 7u);
  // Draining a target with nothing in flight reports at once.
  rt.apply(members({member(a_name, true, true), member(b_name, true, true)}, 8));
  EXPECT_EQ(drained.size(), 2u);
  EXPECT_EQ(picks(rt, 3)["none"], 3) << "draining targets are not a fail-open fallback";
}

TEST(TargetGroupRuntimeTest, ARemovedTargetKeepsItsPositionUntilItsRequestsEnd) {
  core::EventLoop loop;
  auto cfg = group();
  TargetGroupRuntime rt(loop, std::make_shared<const config::TargetGroupConfig>(cfg));
  rt.apply(members({member("10.0.0.1:80")}));
  rt.request_started(0);
  rt.apply(members({member("10.0.0.2:80")}, 2));
  EXPECT_EQ(rt.target_text(0), "10.0.0.1:80") << "still finishing a request";
  EXPECT_FALSE(rt.member(0));
  EXPECT_EQ(picks(rt, 4)["10.0.0.2:80"], 4);
  rt.request_finished(0);
  rt.apply(members({member("10.0.0.2:80"), member("10.0.0.3:80")}, 3));
  EXPECT_EQ(rt.size(), 2u) << "the free position was reused";
  EXPECT_EQ(rt.target_text(0), "10.0.0.3:80");
}

TEST(TargetGroupRuntimeTest, UnhealthyTargetsAreSkippedAndFailOpenIsExplicit) {
  core::EventLoop loop;
  auto open = group();
  TargetGroupRuntime rt(loop, std::make_shared<const config::TargetGroupConfig>(open));
  rt.apply(members({member("10.0.0.1:80", false), member("10.0.0.2:80")}));
  EXPECT_EQ(picks(rt, 10)["10.0.0.2:80"], 10);
  rt.apply(members({member("10.0.0.1:80", false), member("10.0.0.2:80", false)}, 2));
  auto seen = picks(rt, 10);
  EXPECT_EQ(seen["10.0.0.1:80"] + seen["10.0.0.2:80"], 10) << "fail open: all targets";

  auto closed = group();
  closed.fail_open = false;
  TargetGroupRuntime strict(loop, std::make_shared<const config::TargetGroupConfig>(closed));
  strict.apply(members({member("10.0.0.1:80", false)}));
  EXPECT_EQ(picks(strict, 3)["none"], 3);
}

TEST(TargetGroupRuntimeTest, WeightsFollowTheMembership) {
  core::EventLoop loop;
  auto cfg = group(lb::Algorithm::kWeightedRoundRobin);
  TargetGroupRuntime rt(loop, std::make_shared<const config::TargetGroupConfig>(cfg));
  rt.apply(members({member("10.0.0.1:80", true, false, 1), member("10.0.0.2:80", true, false, 3)}));
  auto seen = picks(rt, 40);
  EXPECT_EQ(seen["10.0.0.1:80"], 10);
  EXPECT_EQ(seen["10.0.0.2:80"], 30);
  rt.apply(
      members({member("10.0.0.1:80", true, false, 1), member("10.0.0.2:80", true, false, 0)}, 2));
  EXPECT_EQ(picks(rt, 10)["10.0.0.1:80"], 10) << "weight 0 takes nothing";
}

TEST(TargetGroupRuntimeTest, OnlyNewTargetsOrWeightsRebuildTheBalancer) {
  core::EventLoop loop;
  TargetGroupRuntime rt(
      loop, std::make_shared<const config::TargetGroupConfig>(group(lb::Algorithm::kMaglev)));
  rt.apply(members({member("10.0.0.1:80"), member("10.0.0.2:80")}));
  const uint64_t built = rt.balancer_builds();
  // Health flips: eligibility is read at each pick, the table stays.
  rt.apply(members({member("10.0.0.1:80", false), member("10.0.0.2:80")}, 2));
  EXPECT_EQ(picks(rt, 50)["10.0.0.1:80"], 0) << "the unhealthy target gets nothing";
  rt.apply(members({member("10.0.0.1:80"), member("10.0.0.2:80")}, 3));
  EXPECT_EQ(rt.balancer_builds(), built);
  // A weight, a new target and a drain change what the balancer is built from.
  rt.apply(members({member("10.0.0.1:80", true, false, 3), member("10.0.0.2:80")}, 4));
  EXPECT_EQ(rt.balancer_builds(), built + 1);
  rt.apply(members(
      {member("10.0.0.1:80", true, false, 3), member("10.0.0.2:80"), member("10.0.0.3:80")}, 5));
  EXPECT_EQ(rt.balancer_builds(), built + 2);
  rt.apply(members({member("10.0.0.1:80", true, false, 3), member("10.0.0.2:80"),
                    member("10.0.0.3:80", true, true)},
                   6));
  EXPECT_EQ(rt.balancer_builds(), built + 3);
  EXPECT_EQ(picks(rt, 50)["10.0.0.3:80"], 0) << "the draining target gets nothing";
}

}  // namespace
}  // namespace ballast::proxy
