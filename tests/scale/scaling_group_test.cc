#include "scale/scaling_group.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "core/event_loop.h"
#include "fakes.h"

namespace ballast::scale {
namespace {

using testing::FakeLink;
using testing::FakeProvider;
using Health = health::TargetHealth;

config::AutoScalingGroupConfig group_config() {
  config::AutoScalingGroupConfig c;
  c.name = "web";
  c.target_group = "app";
  c.min_size = 1;
  c.max_size = 10;
  c.desired_capacity = 2;
  c.zones = {"a", "b"};
  c.health_check_grace_period_ms = 10000;
  c.instance_warmup_ms = 5000;
  c.launch_backoff_initial_ms = 1000;
  c.launch_backoff_max_ms = 8000;
  c.launch.fingerprint = "v1";
  return c;
}

// A group driven by a fake clock (ms), with its provider and target group faked.
class GroupTest : public ::testing::Test {
 protected:
  void make(const config::AutoScalingGroupConfig& c) {
    provider = std::make_shared<FakeProvider>();
    group = std::make_unique<ScalingGroup>(
        loop, c, [this](const config::LaunchConfig&) { return provider; }, link);
  }
  void tick(int64_t advance_ms = 100) {
    now += advance_ms;
    group->tick(now, 1'800'000'000'000 + now);
  }
  // Launch, answer, pass health checks: everything wanted is in service.
  void settle() {
    for (int k = 0; k < 5; ++k) {
      tick();
      provider->answer_launches();
      tick();
      link.all_healthy();
      provider->finish_terminations();
      link.finish_drains();
    }
    tick();
  }
  int in(InstanceState s) const { return group->count(s); }
  std::map<std::string, int> per_zone() const {
    std::map<std::string, int> z;
    for (const auto& i : group->instances()) {
      if (i->active()) ++z[i->zone];
    }
    return z;
  }

  core::EventLoop loop;
  FakeLink link;
  std::shared_ptr<FakeProvider> provider;
  std::unique_ptr<ScalingGroup> group;
  int64_t now = 1000;
};

TEST_F(GroupTest, LaunchesDesiredSpreadOverZonesAndServesOnceHealthy) {
  make(group_config());
  tick();
  ASSERT_EQ(provider->launches.size(), 2u);
  EXPECT_NE(provider->launches[0].request.zone, provider->launches[1].request.zone);
  provider->answer_launches();
  tick();
  EXPECT_EQ(in(InstanceState::kPending), 2) << "registered, health check not passed yet";
  EXPECT_EQ(link.count(Health::kInitial), 2);
  link.all_healthy();
  tick();
  EXPECT_EQ(in(InstanceState::kInService), 2);
  ASSERT_EQ(group->activities().size(), 2u);
  EXPECT_EQ(group->activities()[0].status, "Successful");
  EXPECT_NE(group->activities()[0].description.find("Launching a new instance"), std::string::npos);
}

TEST_F(GroupTest, ScaleInTakesFromTheFullestZoneOldestFirstAndDrainsBeforeStopping) {
  auto c = group_config();
  c.desired_capacity = 3;
  c.termination_policy = config::AutoScalingGroupConfig::Termination::kOldestInstance;
  make(c);
  settle();
  ASSERT_EQ(in(InstanceState::kInService), 3);
  EXPECT_EQ(per_zone()["a"], 2);
  std::string oldest_in_a;
  for (const auto& i : group->instances()) {
    if (i->zone == "a" && oldest_in_a.empty()) oldest_in_a = i->id;
  }
  group->set_desired(2, "test");
  tick();
  tick();
  EXPECT_EQ(in(InstanceState::kTerminating), 1);
  EXPECT_TRUE(provider->terminations.empty()) << "still draining in the target group";
  link.finish_drains();
  tick();
  ASSERT_EQ(provider->terminations.size(), 1u);
  EXPECT_EQ(provider->terminations[0], oldest_in_a);
  provider->finish_terminations();
  EXPECT_EQ(in(InstanceState::kTerminated), 0) << "the provider's answer counts at the next tick";
  tick();
  EXPECT_EQ(in(InstanceState::kTerminated), 1);
  EXPECT_EQ(per_zone()["a"], 1);
  EXPECT_EQ(per_zone()["b"], 1);
  EXPECT_NE(group->activities().back().cause.find("test: desired 3 → 2"), std::string::npos);
}

TEST_F(GroupTest, ProtectedInstancesAreNeverChosenForScaleIn) {
  make(group_config());
  settle();
  std::string keep = group->instances()[0]->id;
  ASSERT_TRUE(group->set_protected(keep, true));
  group->set_desired(1, "test");
  settle();
  ASSERT_EQ(in(InstanceState::kInService), 1);
  for (const auto& i : group->instances()) {
    if (i->state() == InstanceState::kInService) {
      EXPECT_EQ(i->id, keep);
    }
  }
}

TEST_F(GroupTest, ARetiredGroupDrainsAndTerminatesEverything) {
  make(group_config());
  settle();
  ASSERT_TRUE(group->set_protected(group->instances()[0]->id, true));
  group->retire(0);
  tick();
  tick();
  EXPECT_EQ(in(InstanceState::kTerminating), 2) << "protection lifted";
  EXPECT_TRUE(provider->terminations.empty()) << "draining first";
  EXPECT_FALSE(group->done());
  settle();
  EXPECT_EQ(provider->terminations.size(), 2u);
  EXPECT_TRUE(group->done());
}

TEST_F(GroupTest, DesiredStaysWithinMinAndMax) {
  make(group_config());
  EXPECT_EQ(group->set_desired(50, "test"), 10);
  EXPECT_EQ(group->set_desired(0, "test"), 1);
}

TEST_F(GroupTest, FailedLaunchesBackOffOneAtATime) {
  make(group_config());
  tick();
  ASSERT_EQ(provider->launches.size(), 2u);
  provider->answer_launches(false);
  tick();
  EXPECT_NE(group->launch_problem().find("launch refused"), std::string::npos);
  EXPECT_NE(group->launch_problem().find("2 failures in a row"), std::string::npos);
  // Two failures: the next launch waits 2 s (1 s doubled), and is a single probe.
  tick(1500);
  EXPECT_TRUE(provider->launches.empty());
  tick(600);
  ASSERT_EQ(provider->launches.size(), 1u);
  provider->answer_launches(false);
  tick();
  tick(3900);
  EXPECT_TRUE(provider->launches.empty()) << "third failure: 4 s";
  tick(200);
  ASSERT_EQ(provider->launches.size(), 1u);
  for (int k = 0; k < 6; ++k) {
    provider->answer_launches(false);
    tick();
    tick(7800);
    EXPECT_TRUE(provider->launches.empty()) << "waits 8 s (the cap) before the next probe";
    tick(200);
    ASSERT_EQ(provider->launches.size(), 1u) << "never more than one probe";
  }
  provider->answer_launches(true);
  tick();
  link.all_healthy();
  tick();
  EXPECT_TRUE(group->launch_problem().empty()) << "a success clears it";
  int failed = 0;
  for (const auto& a : group->activities()) failed += a.status == "Failed";
  EXPECT_GE(failed, 8);
}

TEST_F(GroupTest, AnInstanceThatEndsIsReplacedWithTheCauseRecorded) {
  make(group_config());
  settle();
  std::string victim = group->instances()[0]->id;
  provider->exit(victim);
  tick();
  tick();
  EXPECT_EQ(provider->launches.size(), 1u) << "replacement launched";
  bool recorded = false;
  for (const auto& a : group->activities()) {
    recorded =
        recorded || (a.instance_id == victim && a.cause.find("auto-healing") != std::string::npos);
  }
  EXPECT_TRUE(recorded);
  settle();
  EXPECT_EQ(in(InstanceState::kInService), 2);
}

TEST_F(GroupTest, AnUnhealthyInstanceIsReplacedOnlyAfterTheGracePeriod) {
  make(group_config());
  settle();
  std::string address = group->instances()[0]->address;
  link.set(address, Health::kUnhealthy);
  tick();
  EXPECT_EQ(in(InstanceState::kInService), 2) << "within the grace period: kept";
  tick(10000);
  EXPECT_EQ(in(InstanceState::kInService), 1) << "past the grace period: replaced";

  // Within the grace period a pending instance may fail checks; after it, it is replaced.
  auto c = group_config();
  c.desired_capacity = 1;
  make(c);
  tick();
  provider->answer_launches();
  tick();
  tick(9000);
  EXPECT_EQ(in(InstanceState::kPending), 1);
  std::string first_zone = group->instances()[0]->zone;
  tick(1000);
  EXPECT_NE(group->launch_problem().find("grace period"), std::string::npos);
  // Its zone is avoided now: the replacement goes to the other one, without waiting.
  ASSERT_EQ(in(InstanceState::kPending), 1);
  for (const auto& i : group->instances()) {
    if (i->active()) {
      EXPECT_NE(i->zone, first_zone);
    }
  }
  ASSERT_EQ(group->impaired_zones(now).size(), 1u);
  EXPECT_EQ(group->impaired_zones(now)[0].zone, first_zone);
}

TEST_F(GroupTest, ARefreshReplacesInBatchesLaunchingFirst) {
  auto c = group_config();
  c.desired_capacity = 4;
  c.min_healthy_percentage = 50;  // batches of two
  make(c);
  settle();
  ASSERT_EQ(in(InstanceState::kInService), 4);
  c.launch.fingerprint = "v2";
  group->reconfigure(c, 0);
  ASSERT_TRUE(group->refresh().active);
  EXPECT_EQ(group->refresh().total, 4);
  tick();
  tick();
  EXPECT_EQ(provider->launches.size(), 2u) << "a batch of two replacements";
  EXPECT_EQ(in(InstanceState::kTerminating), 0) << "nobody leaves before they serve";
  provider->answer_launches();
  tick();
  link.all_healthy();
  tick();
  EXPECT_EQ(in(InstanceState::kTerminating), 0) << "replacements still warming up";
  tick(5000);
  EXPECT_EQ(in(InstanceState::kTerminating), 2);
  for (int k = 0; k < 10 && group->refresh().active; ++k) {
    settle();
    tick(5000);
  }
  EXPECT_FALSE(group->refresh().active);
  EXPECT_EQ(group->refresh().status, "Successful");
  EXPECT_EQ(in(InstanceState::kInService), 4);
  for (const auto& i : group->instances()) {
    if (i->active()) {
      EXPECT_EQ(i->template_version, group->template_version());
    }
  }
}

TEST_F(GroupTest, ARefreshCanBeCancelledAndReportsProgress) {
  auto c = group_config();
  c.desired_capacity = 4;
  c.min_healthy_percentage = 75;  // one at a time
  make(c);
  settle();
  std::string error;
  ASSERT_TRUE(group->start_refresh("test", 0, &error, /*all=*/true));
  EXPECT_FALSE(group->start_refresh("again", 0, &error)) << "one at a time";
  EXPECT_NE(error.find("already in progress"), std::string::npos);
  for (int k = 0; k < 3; ++k) {
    settle();
    tick(5000);
  }
  EXPECT_GT(group->refresh().replaced, 0);
  EXPECT_LT(group->refresh().replaced, 4);
  ASSERT_TRUE(group->cancel_refresh(0));
  EXPECT_EQ(group->refresh().status, "Cancelled");
  EXPECT_FALSE(group->cancel_refresh(0)) << "nothing left to cancel";
  for (int k = 0; k < 4; ++k) {
    settle();
    tick(5000);
  }
  EXPECT_EQ(in(InstanceState::kInService), 4) << "capacity stays at desired";
}

TEST_F(GroupTest, UnevenZonesAreRebalancedLaunchFirst) {
  auto c = group_config();
  c.desired_capacity = 4;
  make(c);
  settle();
  // Move one instance from b to a by hand: 3 in a, 1 in b.
  for (const auto& i : group->instances()) {
    if (i->zone == "b") {
      i->zone = "a";
      break;
    }
  }
  tick();
  tick();
  EXPECT_EQ(provider->launches.size(), 1u);
  EXPECT_EQ(provider->launches[0].request.zone, "b");
  for (int k = 0; k < 5; ++k) {
    settle();
    tick(5000);
  }
  EXPECT_EQ(per_zone()["a"], 2);
  EXPECT_EQ(per_zone()["b"], 2);
}

TEST_F(GroupTest, InAClusterALaunchWaitsUntilItIsRecorded) {
  make(group_config());
  provider->outlives = true;
  std::set<std::string> recorded;
  group->set_launch_gate([&](const std::string& id) { return recorded.count(id) != 0; });
  tick();
  ASSERT_EQ(provider->launches.size(), 0u) << "nothing asked before etcd has the launch";
  ASSERT_EQ(group->records().size(), 2u);
  for (const auto& r : group->records()) {
    EXPECT_EQ(r.intent, Intent::kLaunch);
    EXPECT_TRUE(r.address.empty());
  }
  // One scaled in before it was recorded: nothing was started, so it ends at once.
  group->set_desired(1, "test");
  tick();
  ASSERT_EQ(group->records().size(), 1u);
  recorded.insert(group->records()[0].id);
  tick();
  ASSERT_EQ(provider->launches.size(), 1u);
  EXPECT_EQ(provider->launches[0].request.instance_id, group->records()[0].id);
}

TEST_F(GroupTest, ASuccessorAdoptsWhatOutlivesBallastAndAsksAgainWithTheSameIds) {
  make(group_config());
  provider->outlives = true;
  std::vector<InstanceRecord> records = {
      {"i-running", "a", "127.0.0.1:9001", "p1", Intent::kRun, 1},
      {"i-launching", "b", "", "", Intent::kLaunch, 2},
      {"i-leaving", "a", "127.0.0.1:9003", "p3", Intent::kTerminate, 3},
  };
  group->set_desired(2, "the predecessor's desired capacity");
  group->adopt(records, now, 1'800'000'000'000 + now);
  EXPECT_EQ(provider->adopted.size(), 2u) << "the running one and the one to terminate";
  ASSERT_EQ(provider->launches.size(), 1u);
  EXPECT_EQ(provider->launches[0].request.instance_id, "i-launching") << "the same key";
  ASSERT_EQ(provider->terminations.size(), 1u);
  EXPECT_EQ(provider->terminations[0], "i-leaving");
  EXPECT_EQ(link.count(Health::kInitial), 1) << "the running one joins again";
  provider->answer_launches();
  provider->finish_terminations();
  settle();
  EXPECT_EQ(in(InstanceState::kInService), 2);
  std::set<std::string> ids;
  for (const auto& i : group->instances()) {
    if (i->active()) ids.insert(i->id);
  }
  EXPECT_EQ(ids, (std::set<std::string>{"i-running", "i-launching"})) << "nothing launched anew";
}

TEST_F(GroupTest, HandingOverLeavesInstancesThatOutliveBallastRunning) {
  make(group_config());
  provider->outlives = true;
  settle();
  ASSERT_EQ(in(InstanceState::kInService), 2);
  group->hand_over("this node no longer leads", 1'800'000'000'000 + now);
  EXPECT_TRUE(provider->released);
  EXPECT_TRUE(provider->terminations.empty());
  EXPECT_TRUE(group->done());
  EXPECT_EQ(link.count(Health::kHealthy), 2) << "their targets are the successor's to keep";
}

TEST_F(GroupTest, HandingOverStopsOwnProcessesOnlyOnceTheSuccessorRemovedTheirTargets) {
  make(group_config());
  settle();
  ASSERT_EQ(in(InstanceState::kInService), 2);
  group->hand_over("this node no longer leads", 1'800'000'000'000 + now);
  for (int k = 0; k < 5; ++k) tick();
  EXPECT_EQ(link.count(Health::kHealthy), 2) << "still serving: not deregistered by this node";
  EXPECT_TRUE(provider->terminations.empty());
  for (const auto& i : group->instances()) link.set(i->address, Health::kDraining);
  link.finish_drains();  // the successor removed them
  tick();
  EXPECT_EQ(provider->terminations.size(), 2u);
  provider->finish_terminations();
  tick();
  EXPECT_TRUE(group->done());
}

TEST_F(GroupTest, AnImpairedZoneIsAvoidedAndCapacityComesBackInTheOthers) {
  make(group_config());
  settle();
  ASSERT_EQ(per_zone(), (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
  // Zone a's instance stops answering its checks (the zone's links are cut).
  for (const auto& i : group->instances()) {
    if (i->zone == "a") link.set(i->address, Health::kUnhealthy);
  }
  tick(10000);
  tick();
  ASSERT_EQ(provider->launches.size(), 1u);
  EXPECT_EQ(provider->launches[0].request.zone, "b") << "not into the zone that failed";
  provider->answer_launches();
  tick();
  link.all_healthy();
  provider->finish_terminations();
  link.finish_drains();
  for (int k = 0; k < 5; ++k) tick();
  EXPECT_EQ(in(InstanceState::kInService), 2);
  EXPECT_EQ(per_zone(), (std::map<std::string, int>{{"b", 2}}));
  ASSERT_EQ(group->impaired_zones(now).size(), 1u);
  EXPECT_NE(group->impaired_zones(now)[0].why.find("failed the target group's health check"),
            std::string::npos);
  // No rebalancing into it while it is impaired.
  for (int k = 0; k < 20; ++k) tick(1000);
  EXPECT_TRUE(provider->launches.empty());
  // Then it is tried again, and an instance serving there clears it.
  tick(10000);
  tick();
  ASSERT_EQ(provider->launches.size(), 1u);
  EXPECT_EQ(provider->launches[0].request.zone, "a");
  settle();
  tick(6000);  // warmed up: the instance it rebalances away from leaves
  settle();
  EXPECT_TRUE(group->impaired_zones(now).empty());
  EXPECT_EQ(per_zone(), (std::map<std::string, int>{{"a", 1}, {"b", 1}}));
}

}  // namespace
}  // namespace ballast::scale