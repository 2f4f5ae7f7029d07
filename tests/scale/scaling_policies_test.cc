#include "scale/scaling_policies.h"

#include <gtest/gtest.h>

#include "core/event_loop.h"
#include "fakes.h"

namespace ballast::scale {
namespace {

using testing::FakeAlarms;
using testing::FakeLink;
using testing::FakeMetrics;
using testing::FakeProvider;

config::ScalingPolicyConfig tracking(const std::string& name, double target) {
  config::ScalingPolicyConfig p;
  p.name = name;
  p.type = config::ScalingPolicyConfig::Type::kTargetTracking;
  p.metric.kind = config::PolicyMetric::Kind::kRequestCountPerTarget;
  p.target = target;
  return p;
}

// Simple scaling: +1 while alarm "busy" is in ALARM, then a 30 s cooldown.
config::ScalingPolicyConfig add_one_on_busy() {
  config::ScalingPolicyConfig p;
  p.name = "add";
  p.type = config::ScalingPolicyConfig::Type::kSimpleScaling;
  p.alarm = "busy";
  p.adjustment = 1;
  p.cooldown_ms = 30000;
  return p;
}

// Policies over a group whose instances come up at once, on a fake clock.
class PoliciesTest : public ::testing::Test {
 protected:
  void make(config::AutoScalingGroupConfig c) {
    c.name = "web";
    c.target_group = "app";
    c.min_size = c.min_size == 0 ? 1 : c.min_size;
    c.max_size = 20;
    if (!c.desired_capacity) c.desired_capacity = 2;
    c.instance_warmup_ms = 3000;
    c.scale_in_stabilization_ms = 60000;
    c.launch.fingerprint = "v1";
    config = c;
    provider = std::make_shared<FakeProvider>();
    group = std::make_unique<ScalingGroup>(
        loop, c, [this](const config::LaunchConfig&) { return provider; }, link);
    policies = std::make_unique<ScalingPolicies>(loop, c);
    settle();
  }
  // Capacity catches up with desired, and warms up.
  void settle() {
    for (int k = 0; k < 4; ++k) {
      step(100);
      provider->answer_launches();
      step(100);
      link.all_healthy();
      provider->finish_terminations();
      link.finish_drains();
    }
    step(3100);
  }
  void step(int64_t ms) {
    now += ms;
    group->tick(now, now);
  }
  // One evaluation a second.
  void evaluate_for(int64_t seconds) {
    for (int64_t s = 0; s < seconds; ++s) {
      now += 1000;
      group->tick(now, now);
      policies->evaluate(*group, metrics, alarms, now, now);
    }
  }

  core::EventLoop loop;
  FakeLink link;
  FakeMetrics metrics;
  FakeAlarms alarms;
  config::AutoScalingGroupConfig config;
  std::shared_ptr<FakeProvider> provider;
  std::unique_ptr<ScalingGroup> group;
  std::unique_ptr<ScalingPolicies> policies;
  int64_t now = 1000;
};

TEST_F(PoliciesTest, TargetTrackingScalesOutAtOnce) {
  config::AutoScalingGroupConfig c;
  c.policies = {tracking("rps", 100)};
  make(c);
  metrics.values["rps"] = 250;  // per target, over 2 counted
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 5) << "ceil(2 x 250 / 100)";
}

TEST_F(PoliciesTest, AStepInLoadGetsItsCapacityInOneAction) {
  config::AutoScalingGroupConfig c;
  c.policies = {tracking("rps", 100)};
  make(c);
  // The window still averages quiet seconds (it says 3); the newest second has the new
  // load (it says 8): the first action asks for what the new load needs.
  metrics.values["rps"] = 120;
  metrics.newest["rps"] = 400;
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 8) << "ceil(2 x 400 / 100), not ceil(2 x 120 / 100)";
  step(100);  // the launches start, with the decision as their cause
  ASSERT_FALSE(group->activities().empty());
  EXPECT_NE(group->activities().back().cause.find("400 in the newest second"), std::string::npos)
      << group->activities().back().cause;
}

TEST_F(PoliciesTest, ScaleInKeepsTheWindowWhateverTheNewestSecond) {
  config::AutoScalingGroupConfig c;
  c.desired_capacity = 4;
  c.policies = {tracking("rps", 100)};
  make(c);
  // Load falling: the window still says hold, a quiet newest second says 1: no scale-in.
  metrics.values["rps"] = 100;
  metrics.newest["rps"] = 10;
  evaluate_for(90);
  EXPECT_EQ(group->desired(), 4);
  // Load rising back within tolerance while the window says scale-in: hold.
  metrics.values["rps"] = 20;
  metrics.newest["rps"] = 95;
  evaluate_for(90);
  EXPECT_EQ(group->desired(), 4) << "the load now is within tolerance";
}

TEST_F(PoliciesTest, ScaleOutTakesTheHighestRecommendation) {
  config::AutoScalingGroupConfig c;
  c.policies = {tracking("a", 100), tracking("b", 100)};
  make(c);
  metrics.values["a"] = 150;
  metrics.values["b"] = 300;
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 6);
}

TEST_F(PoliciesTest, ScaleInWaitsForTheStabilizationWindowAndEveryPolicy) {
  config::AutoScalingGroupConfig c;
  c.desired_capacity = 4;
  c.policies = {tracking("a", 100), tracking("b", 100)};
  make(c);
  metrics.values["a"] = 20;   // says 1
  metrics.values["b"] = 100;  // within tolerance: hold
  evaluate_for(120);
  EXPECT_EQ(group->desired(), 4) << "b does not agree";
  metrics.values["b"] = 20;
  // The window remembers b's "hold" (4) for 60 s.
  evaluate_for(30);
  EXPECT_EQ(group->desired(), 4);
  evaluate_for(35);
  EXPECT_EQ(group->desired(), 1);
}

TEST_F(PoliciesTest, APolicyWithoutDataAbstains) {
  config::AutoScalingGroupConfig c;
  c.desired_capacity = 4;
  c.policies = {tracking("rps", 100), tracking("latency", 0.05)};
  make(c);
  metrics.values["rps"] = 0;  // idle: no latency samples at all
  evaluate_for(61);
  EXPECT_EQ(group->desired(), 1) << "the latency policy has nothing to say";
  metrics.values.clear();
  group->set_desired(3, "test");
  evaluate_for(120);
  EXPECT_EQ(group->desired(), 3) << "no policy has data: nothing changes";
}

TEST_F(PoliciesTest, NoScaleInWhileInstancesWarmUp) {
  config::AutoScalingGroupConfig c;
  c.policies = {tracking("a", 100)};
  make(c);
  metrics.values["a"] = 300;
  evaluate_for(1);
  ASSERT_EQ(group->desired(), 6);
  metrics.values["a"] = 10;  // load gone while the new four are starting
  now += 100;
  group->tick(now, now);
  policies->evaluate(*group, metrics, alarms, now, now);
  EXPECT_EQ(group->desired(), 6) << "pending instances: no scale-in";
}

TEST_F(PoliciesTest, WarmingInstancesAreNotCounted) {
  config::AutoScalingGroupConfig c;
  c.policies = {tracking("a", 100)};
  make(c);
  group->set_desired(3, "test");
  step(100);
  provider->answer_launches();
  step(100);
  link.all_healthy();
  step(100);
  ASSERT_EQ(group->count(InstanceState::kInService), 3);
  EXPECT_EQ(group->counted(now).size(), 2u) << "the third warms up for 3 s";
  metrics.values["a"] = 200;
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 4) << "ceil(2 counted x 200 / 100), not 3 x 200 / 100";
}

TEST_F(PoliciesTest, MaxScaleOutStepBoundsEachDecision) {
  config::AutoScalingGroupConfig c;
  c.max_scale_out_step = 2;
  c.policies = {tracking("a", 100)};
  make(c);
  metrics.values["a"] = 1000;
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 4) << "2 + at most 2";
}

TEST_F(PoliciesTest, StepScalingActsOncePerAlarmEvaluation) {
  config::AutoScalingGroupConfig c;
  config::ScalingPolicyConfig p;
  p.name = "up";
  p.type = config::ScalingPolicyConfig::Type::kStepScaling;
  p.alarm = "high";
  p.steps = {{0.0, 20.0, 1}, {20.0, std::nullopt, 3}};
  c.policies = {p};
  make(c);
  alarms.readings["high"] = AlarmReading{true, 60, 85.0, 60};
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 5) << "85 is 25 above 60: +3";
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 5) << "same evaluation: nothing more";
  settle();
  alarms.readings["high"] = AlarmReading{true, 120, 70.0, 60};
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 6);
  alarms.readings["high"] = AlarmReading{false, 180, 50.0, 60};
  settle();
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 6) << "OK: no action";
  const auto& a = group->activities().back();
  EXPECT_NE(a.cause.find("alarm high in ALARM triggered policy up: desired 5 → 6"),
            std::string::npos)
      << a.cause;
}

TEST_F(PoliciesTest, SimpleScalingWaitsForItsCooldown) {
  config::AutoScalingGroupConfig c;
  c.policies = {add_one_on_busy()};
  make(c);
  for (int64_t period = 1; period <= 40; ++period) {
    alarms.readings["busy"] = AlarmReading{true, period * 1000, 1.0, 0};
    evaluate_for(1);
  }
  EXPECT_EQ(group->desired(), 4) << "at 0 s and 30 s; the breaches between fall in cooldown";
}

TEST_F(PoliciesTest, AReloadKeepsASimplePolicysCooldown) {
  config::AutoScalingGroupConfig c;
  c.policies = {add_one_on_busy()};
  make(c);
  alarms.readings["busy"] = AlarmReading{true, 1000, 1.0, 0};
  evaluate_for(1);
  ASSERT_EQ(group->desired(), 3);
  policies->reconfigure(config);  // the same file again
  alarms.readings["busy"] = AlarmReading{true, 2000, 1.0, 0};
  evaluate_for(1);
  EXPECT_EQ(group->desired(), 3) << "still in the cooldown the action started";
}

TEST_F(PoliciesTest, ASuccessorGoesOnWithTheCooldownItsPredecessorStarted) {
  config::AutoScalingGroupConfig c;
  c.policies = {add_one_on_busy()};
  make(c);
  alarms.readings["busy"] = AlarmReading{true, 1000, 1.0, 0};
  evaluate_for(1);
  ASSERT_EQ(group->desired(), 3);
  // The leader's record, on the wall clock; this node's monotonic clock is another one.
  int64_t unix_offset = 1'800'000'000'000;
  std::map<std::string, int64_t> kept = policies->cooldowns(now, unix_offset + now);
  ASSERT_EQ(kept.count("add"), 1u);
  evaluate_for(10);  // the successor takes over 10 s into the 30 s cooldown
  ScalingPolicies successor(loop, config);
  int64_t successor_now = 5000;
  successor.take_over(kept, group->desired(), successor_now, unix_offset + now);
  alarms.readings["busy"] = AlarmReading{true, 2000, 1.0, 0};
  successor.evaluate(*group, metrics, alarms, successor_now + 1000, unix_offset + now + 1000);
  EXPECT_EQ(group->desired(), 3) << "still in the predecessor's cooldown";
  alarms.readings["busy"] = AlarmReading{true, 3000, 1.0, 0};
  successor.evaluate(*group, metrics, alarms, successor_now + 21000, unix_offset + now + 21000);
  EXPECT_EQ(group->desired(), 4) << "30 s after the predecessor's action";
}

TEST_F(PoliciesTest, ASuccessorWaitsAStabilizationWindowBeforeScalingIn) {
  config::AutoScalingGroupConfig c;
  c.desired_capacity = 4;
  c.policies = {tracking("a", 100)};
  make(c);
  metrics.values["a"] = 20;  // says 1
  ScalingPolicies successor(loop, config);
  successor.take_over({}, group->desired(), now, now);
  auto successor_evaluates_for = [&](int seconds) {
    for (int s = 0; s < seconds; ++s) {
      now += 1000;
      group->tick(now, now);
      successor.evaluate(*group, metrics, alarms, now, now);
    }
  };
  successor_evaluates_for(30);
  EXPECT_EQ(group->desired(), 4) << "the capacity it took over counts in the window";
  successor_evaluates_for(35);
  EXPECT_EQ(group->desired(), 1);
}

}  // namespace
}  // namespace ballast::scale
