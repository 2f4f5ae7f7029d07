#include <gtest/gtest.h>

#include <string>

#include "config/config_loader.h"
#include "errors_text.h"

namespace ballast::config {
namespace {

// A file with target group "app", an alarm "high", and `groups` as autoscaling_groups.
LoadResult load_groups(const std::string& groups) {
  return load_config_string(
      "listeners: [{name: w, bind: 127.0.0.1:1, rules: [{forward: {target_group: app}}]}]\n"
      "target_groups: [{name: app}]\n"
      "alarms: [{name: high, metric: CPUUtilization, threshold: 60}, {name: both, rule: "
      "\"ALARM(high)\"}]\n"
      "autoscaling_groups:\n" +
          groups,
      "asg.yaml");
}

const char* kLaunch =
    "    launch: { provider: process, command: \"{ballast} backend --port {port}\", ports: "
    "9100-9199 }\n";

TEST(AutoscalingConfigTest, ReadsAGroupWithEveryPart) {
  auto r = load_groups(
      std::string("  - name: web\n    target_group: app\n    min_size: 2\n    max_size: "
                  "10\n    desired_capacity: 3\n    zones: [a, b, c]\n"
                  "    health_check_grace_period: 20s\n    instance_warmup: 15s\n"
                  "    default_cooldown: 2m\n    max_instance_lifetime: 1d\n"
                  "    scale_in_stabilization: 90s\n    termination_policy: "
                  "newest_instance\n    max_scale_out_step: 50%\n"
                  "    instance_refresh: { min_healthy_percentage: 75 }\n"
                  "    launch_backoff: { initial: 2s, max: 1m }\n") +
      kLaunch +
      "    policies:\n"
      "      - { type: target_tracking, metric: cpu_utilization, target: 60 }\n"
      "      - { name: queue, type: target_tracking, target: 10, metric: { "
      "command: \"redis-cli llen jobs\", per_instance: true } }\n"
      "      - { name: up, type: step_scaling, alarm: high, adjustment_type: "
      "percent_change_in_capacity, min_adjustment_magnitude: 2, steps: [{ "
      "lower: 0, upper: 20, adjustment: 10 }, { lower: 20, adjustment: 30 }] }\n"
      "      - { name: add, type: simple_scaling, alarm: both, adjustment: 1, "
      "cooldown: 5m }\n"
      "    scheduled_actions:\n"
      "      - { name: morning, cron: \"0 8 * * mon-fri\", time_zone: "
      "Europe/Paris, min_size: 4 }\n"
      "    lifecycle_hooks:\n"
      "      - { name: warm, transition: launching, command: \"true\", timeout: "
      "30s, default_result: abandon }\n");
  ASSERT_TRUE(r.config) << errors_of(r);
  const AutoScalingGroupConfig& g = r.config->autoscaling_groups[0];
  EXPECT_EQ(g.min_size, 2u);
  EXPECT_EQ(g.desired_capacity, 3u);
  EXPECT_EQ(g.zones.size(), 3u);
  EXPECT_EQ(g.instance_warmup_ms, 15000);
  EXPECT_EQ(g.default_cooldown_ms, 120000);
  EXPECT_EQ(g.max_instance_lifetime_ms, 86400000);
  EXPECT_EQ(g.termination_policy, AutoScalingGroupConfig::Termination::kNewestInstance);
  EXPECT_EQ(g.max_scale_out_step_percent, 50u);
  EXPECT_EQ(g.min_healthy_percentage, 75u);
  EXPECT_EQ(g.launch.port_first, 9100);
  EXPECT_EQ(g.launch.port_last, 9199);
  EXPECT_FALSE(g.launch.fingerprint.empty());
  ASSERT_EQ(g.policies.size(), 4u);
  EXPECT_EQ(g.policies[0].name, "policy-1");
  EXPECT_EQ(g.policies[1].metric.kind, PolicyMetric::Kind::kCommand);
  EXPECT_TRUE(g.policies[1].metric.per_instance);
  EXPECT_EQ(g.policies[2].steps.size(), 2u);
  EXPECT_EQ(g.policies[2].adjustment_type,
            ScalingPolicyConfig::Adjustment::kPercentChangeInCapacity);
  EXPECT_EQ(g.policies[3].cooldown_ms, 300000);
  EXPECT_EQ(g.scheduled[0].time_zone, "Europe/Paris");
  EXPECT_FALSE(g.lifecycle_hooks[0].default_continue);
}

TEST(AutoscalingConfigTest, ErrorsSayWhereAndWhy) {
  auto expect = [](const std::string& group, const std::string& wanted) {
    auto r = load_groups(group);
    EXPECT_FALSE(r.config) << group;
    EXPECT_NE(errors_of(r).find(wanted), std::string::npos) << errors_of(r);
  };
  std::string head = "  - name: web\n    target_group: app\n    max_size: 4\n";
  expect("  - name: web\n    target_group: nope\n    max_size: 4\n" + std::string(kLaunch),
         "autoscaling_groups[0].target_group: target group \"nope\" does not exist");
  expect(head + "    min_size: 5\n" + kLaunch, "min_size (5) is above max_size (4)");
  expect(head + "    desired_capacity: 9\n" + kLaunch, "desired_capacity (9) is outside");
  expect(head, "an autoscaling group needs a launch template");
  expect(head + "    launch: { command: x, ports: 9100-9101 }\n",
         "the port range holds 2 ports but max_size is 4");
  expect(head + "    launch: { command: x, ports: lots }\n", "expected a port range");
  expect(head + "    launch: { provider: docker, command: x }\n", "unknown provider \"docker\"");
  expect(head + kLaunch + "    policies: [{ type: target_tracking, metric: cpu, target: 5 }]\n",
         "unknown metric \"cpu\"");
  expect(head + kLaunch +
             "    policies: [{ type: step_scaling, alarm: both, steps: [{ adjustment: 1 }] }]\n",
         "is a composite alarm; step scaling needs a metric alarm");
  expect(head + kLaunch + "    policies: [{ type: simple_scaling, alarm: gone, adjustment: 1 }]\n",
         "alarm \"gone\" does not exist");
  expect(head + kLaunch +
             "    policies: [{ type: step_scaling, alarm: high, steps: [{ lower: 0, adjustment: 1 "
             "}, { lower: 10, adjustment: 2 }] }]\n",
         "steps[0] and steps[1] overlap");
  expect(head + kLaunch + "    scheduled_actions: [{ name: s, cron: \"* * *\", min_size: 1 }]\n",
         "a cron expression has five fields");
  expect(head + kLaunch +
             "    scheduled_actions: [{ name: s, cron: \"0 8 * * *\", time_zone: Mars/Base, "
             "min_size: 1 }]\n",
         "unknown time zone \"Mars/Base\"");
  expect(head + kLaunch + "    termination_policy: random\n", "unknown termination_policy");
  expect(head + kLaunch + "    max_scale_out_step: lots\n", "expected a number of instances");
  expect(head + kLaunch + "    lifecycle_hooks: [{ name: h, transition: booting, command: x }]\n",
         "expected launching or terminating");
  expect(head + kLaunch + "    min_sise: 1\n", "did you mean");
  expect(head + kLaunch + head + kLaunch, "duplicate autoscaling group name \"web\"");
}

}  // namespace
}  // namespace ballast::config
