#include "control/target_registry.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "lb/hash.h"

namespace ballast::control {
namespace {

config::Config load(const std::string& targets, const std::string& group_extra = "") {
  std::string yaml =
      "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    rules:\n"
      "      - forward: { target_group: app }\n"
      "target_groups:\n  - name: app\n    deregistration_delay: 10s\n" +
      group_extra + "    targets:\n" + targets +
      "  - name: spare\n    targets:\n      - { address: 127.0.0.1:9999 }\n";
  auto r = config::load_config_string(yaml, "test.yaml");
  EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors.errors()[0].to_string());
  return *r.config;
}

const std::string kAB =
    "      - { address: 127.0.0.1:8001 }\n      - { address: 127.0.0.1:8002, weight: 3 }\n";

const TargetRecord* find(const TargetRegistry& r, const std::string& address) {
  for (const auto& t : r.find_group("app")->targets) {
    if (t.address_text == address) return &t;
  }
  return nullptr;
}

TEST(TargetRegistryTest, LoadsGroupsAndPublishesEachOnce) {
  TargetRegistry r(2);
  r.load(load(kAB), 0);
  auto changes = r.take_changes();
  ASSERT_EQ(changes.size(), 2u);
  const auto& m = *changes[0].second;
  ASSERT_EQ(m.members.size(), 2u);
  EXPECT_EQ(m.members[1].weight, 3u);
  EXPECT_TRUE(m.members[0].healthy()) << "no health check: serving";
  EXPECT_TRUE(r.take_changes().empty()) << "nothing changed since";
  EXPECT_EQ(r.find_group("app")->state_of(r.find_group("app")->targets[0]),
            health::TargetHealth::kHealthy);
  EXPECT_EQ(r.find_group("spare")->state_of(r.find_group("spare")->targets[0]),
            health::TargetHealth::kUnused)
      << "no rule forwards to it";
}

TEST(TargetRegistryTest, CheckedTargetsStartInitialAndFollowTheirChecks) {
  TargetRegistry r(1);
  r.load(load(kAB, "    health_check: { path: /health }\n"), 0);
  const GroupRecord& g = *r.find_group("app");
  EXPECT_EQ(g.state_of(g.targets[0]), health::TargetHealth::kInitial);
  EXPECT_FALSE(r.take_changes()[0].second->members[0].healthy());
  r.set_health("app", g.targets[0].id, health::TargetHealth::kUnhealthy,
               health::HealthReason::kTimeout, "no response");
  EXPECT_EQ(g.state_of(g.targets[0]), health::TargetHealth::kUnhealthy);
  EXPECT_EQ(g.targets[0].detail, "no response");
  r.set_health("app", g.targets[0].id, health::TargetHealth::kHealthy, health::HealthReason::kNone,
               "");
  auto changes = r.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_TRUE(changes[0].second->members[0].healthy());
}

TEST(TargetRegistryTest, RegisterValidatesAndRejectsDuplicates) {
  TargetRegistry r(1);
  r.load(load(kAB), 0);
  using Code = TargetRegistry::Outcome::Code;
  EXPECT_TRUE(r.register_target("app", "127.0.0.1:8003", 2).ok());
  auto again = r.register_target("app", "127.0.0.1:8003", 2);
  EXPECT_EQ(again.code, Code::kConflict);
  EXPECT_NE(again.message.find("already registered"), std::string::npos);
  auto nope = r.register_target("nope", "127.0.0.1:8003", 1);
  EXPECT_EQ(nope.code, Code::kNotFound);
  EXPECT_NE(nope.message.find("no target group"), std::string::npos);
  EXPECT_EQ(r.register_target("app", "example.com:80", 1).code, Code::kInvalid)
      << "names are not resolved";
  EXPECT_NE(r.register_target("app", "0.0.0.0:80", 1).message.find("specific address"),
            std::string::npos);
  EXPECT_NE(r.register_target("app", "127.0.0.1:8004", 2000000).message.find("out of range"),
            std::string::npos);
  EXPECT_EQ(r.drain("app", "127.0.0.1:9", 0).code, Code::kNotFound);
  EXPECT_FALSE(find(r, "127.0.0.1:8003")->from_config);
}

TEST(TargetRegistryTest, DeregistrationWaitsForEveryWorker) {
  TargetRegistry r(2);
  r.load(load(kAB), 0);
  r.take_changes();
  ASSERT_TRUE(r.deregister_target("app", "127.0.0.1:8001", 1000).ok());
  auto changes = r.take_changes();
  ASSERT_EQ(changes.size(), 1u);
  uint64_t version = changes[0].second->version;
  EXPECT_TRUE(changes[0].second->members[0].draining());
  uint64_t id = lb::hash_bytes("127.0.0.1:8001");
  r.drained("app", id, version - 1, 0);  // about an older drain: ignored
  r.drained("app", id, version, 1);
  EXPECT_TRUE(r.remove_finished(2000).empty()) << "worker 0 has not finished";
  r.drained("app", id, version, 0);
  auto removed = r.remove_finished(2000);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], "app/127.0.0.1:8001");
  EXPECT_EQ(find(r, "127.0.0.1:8001"), nullptr);
  EXPECT_EQ(r.take_changes()[0].second->members.size(), 1u);
}

TEST(TargetRegistryTest, TheDeregistrationDelayEndsTheWait) {
  TargetRegistry r(1);
  r.load(load(kAB), 0);
  r.deregister_target("app", "127.0.0.1:8002", 1000);
  r.take_changes();
  EXPECT_TRUE(r.remove_finished(10999).empty());
  EXPECT_EQ(r.remove_finished(11000).size(), 1u) << "10 s after the drain began";
}

TEST(TargetRegistryTest, DrainAndUndrainKeepTheTargetRegistered) {
  TargetRegistry r(1);
  r.load(load(kAB), 0);
  r.take_changes();
  ASSERT_TRUE(r.drain("app", "127.0.0.1:8001", 0).ok());
  uint64_t v = r.take_changes()[0].second->version;
  r.drained("app", lb::hash_bytes("127.0.0.1:8001"), v, 0);
  EXPECT_TRUE(r.remove_finished(100000).empty()) << "drained, not deregistered";
  EXPECT_EQ(r.find_group("app")->state_of(*find(r, "127.0.0.1:8001")),
            health::TargetHealth::kDraining);
  ASSERT_TRUE(r.undrain("app", "127.0.0.1:8001").ok());
  EXPECT_FALSE(r.take_changes()[0].second->members[0].draining());
}

TEST(TargetRegistryTest, AReloadKeepsStateAndApiTargetsAndDrainsWhatItDrops) {
  TargetRegistry r(1);
  r.load(load(kAB, "    health_check: { path: /health }\n"), 0);
  r.register_target("app", "127.0.0.1:8009", 1);
  uint64_t a = lb::hash_bytes("127.0.0.1:8001");
  r.set_health("app", a, health::TargetHealth::kHealthy, health::HealthReason::kNone, "");
  r.take_changes();
  // The new file drops 8002, keeps 8001 with another weight, adds 8005.
  r.load(
      load("      - { address: 127.0.0.1:8001, weight: 5 }\n      - { address: 127.0.0.1:8005 }\n",
           "    health_check: { path: /health }\n"),
      500);
  EXPECT_EQ(find(r, "127.0.0.1:8001")->weight, 5u);
  EXPECT_EQ(find(r, "127.0.0.1:8001")->health, health::TargetHealth::kHealthy) << "kept";
  EXPECT_TRUE(find(r, "127.0.0.1:8002")->deregistering) << "drained, not dropped";
  EXPECT_NE(find(r, "127.0.0.1:8009"), nullptr) << "API targets survive";
  EXPECT_EQ(find(r, "127.0.0.1:8005")->health, health::TargetHealth::kInitial);
  // Listing a deregistering target again calls the deregistration off.
  r.load(load(kAB, "    health_check: { path: /health }\n"), 600);
  EXPECT_FALSE(find(r, "127.0.0.1:8002")->draining);
}

}  // namespace
}  // namespace ballast::control
