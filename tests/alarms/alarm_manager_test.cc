#include "alarms/alarm_manager.h"

#include <gtest/gtest.h>

#include <map>

namespace ballast::alarms {
namespace {

// Datapoints by period start; anything else is missing.
class FakeSource final : public MetricSource {
 public:
  std::optional<double> datapoint(const config::AlarmConfig& a, int64_t start) override {
    ++calls;
    auto it = values.find({a.metric, start});
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::pair<std::string, int64_t>, double> values;
  int calls = 0;
};

config::AlarmConfig metric_alarm(const std::string& name, const std::string& metric) {
  config::AlarmConfig a;
  a.name = name;
  a.metric = metric;
  a.period_s = 60;
  a.evaluation_periods = 2;
  a.datapoints_to_alarm = 2;
  a.threshold = 100;
  a.on_alarm.push_back(config::AlarmAction{});  // a log action
  return a;
}

config::AlarmConfig composite(const std::string& name, const std::string& rule) {
  config::AlarmConfig a;
  a.name = name;
  a.rule = rule;
  std::string error;
  a.parsed_rule = config::AlarmRule::parse(rule, &error);
  return a;
}

struct Fixture {
  std::vector<std::string> actions;
  AlarmManager manager{
      [this](const AlarmStatus& a, const config::AlarmAction&, const Transition& t) {
        actions.push_back(a.config.name + ":" + to_string(t.to));
      }};
  FakeSource source;
};

TEST(AlarmManagerTest, EvaluatesOncePerCompletePeriodWithAFakeClock) {
  Fixture f;
  f.manager.configure({metric_alarm("busy", "RequestCount")}, 0);
  EXPECT_EQ(AlarmManager::last_complete_period(6061, 60), 6000);
  EXPECT_EQ(AlarmManager::last_complete_period(6060, 60), 5940) << "6000..6059 not sampled yet";
  f.source.values[{"RequestCount", 5940}] = 150;
  f.source.values[{"RequestCount", 6000}] = 180;
  f.manager.evaluate(6030, f.source);
  EXPECT_EQ(f.manager.find("busy")->state, AlarmState::kInsufficientData)
      << "only 5940 is complete; 5880 is missing: 1 of 2 known, undecided";
  int calls = f.source.calls;
  f.manager.evaluate(6040, f.source);
  EXPECT_EQ(f.source.calls, calls) << "no new period, no evaluation";
  f.manager.evaluate(6061, f.source);
  EXPECT_EQ(f.manager.find("busy")->state, AlarmState::kAlarm);
  EXPECT_EQ(f.actions, std::vector<std::string>{"busy:ALARM"});
  f.source.values[{"RequestCount", 6060}] = 20;
  f.manager.evaluate(6121, f.source);
  EXPECT_EQ(f.manager.find("busy")->state, AlarmState::kOk);
  const auto& history = f.manager.find("busy")->history;
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].to, AlarmState::kAlarm);
  EXPECT_EQ(history[1].from, AlarmState::kAlarm);
  EXPECT_EQ(history[1].to, AlarmState::kOk);
  EXPECT_EQ(history[1].time, 6121);
  EXPECT_EQ(f.actions.size(), 1u) << "no OK actions configured";
}

TEST(AlarmManagerTest, CompositeAlarmsFollowTheirRule) {
  Fixture f;
  f.manager.configure({metric_alarm("a", "A"), metric_alarm("b", "B"),
                       composite("both", "ALARM(a) AND NOT OK(\"b\")"),
                       composite("either", "ALARM(a) OR ALARM(both)")},
                      0);
  f.source.values[{"A", 0}] = 500;
  f.source.values[{"A", 60}] = 500;
  f.manager.evaluate(121, f.source);
  EXPECT_EQ(f.manager.find("a")->state, AlarmState::kAlarm);
  EXPECT_EQ(f.manager.find("b")->state, AlarmState::kInsufficientData);
  EXPECT_EQ(f.manager.find("both")->state, AlarmState::kAlarm) << "b is not OK";
  EXPECT_EQ(f.manager.find("either")->state, AlarmState::kAlarm);
  f.source.values[{"B", 60}] = 1;
  f.source.values[{"B", 120}] = 1;
  f.source.values[{"A", 120}] = 500;
  f.manager.evaluate(181, f.source);
  EXPECT_EQ(f.manager.find("b")->state, AlarmState::kOk);
  EXPECT_EQ(f.manager.find("both")->state, AlarmState::kOk);
  EXPECT_EQ(f.manager.find("either")->state, AlarmState::kAlarm);
}

TEST(AlarmManagerTest, AReloadKeepsTheStateOfAlarmsThatStay) {
  Fixture f;
  f.manager.configure({metric_alarm("busy", "RequestCount")}, 0);
  f.source.values[{"RequestCount", 0}] = 500;
  f.source.values[{"RequestCount", 60}] = 500;
  f.manager.evaluate(121, f.source);
  ASSERT_EQ(f.manager.find("busy")->state, AlarmState::kAlarm);
  auto changed = metric_alarm("busy", "RequestCount");
  changed.threshold = 1000;
  f.manager.configure({changed, metric_alarm("new", "Other")}, 130);
  EXPECT_EQ(f.manager.find("busy")->state, AlarmState::kAlarm);
  EXPECT_EQ(f.manager.find("busy")->config.threshold, 1000);
  EXPECT_EQ(f.manager.find("new")->state, AlarmState::kInsufficientData);
}

TEST(AlarmManagerTest, EveryTransitionReachesTheTransitionHook) {
  std::vector<std::string> seen;
  AlarmManager manager(
      [](const AlarmStatus&, const config::AlarmAction&, const Transition&) {},
      [&](const AlarmStatus& a, const Transition& t) {
        seen.push_back(a.config.name + ":" + to_string(t.from) + "->" + to_string(t.to));
      });
  FakeSource source;
  auto a = metric_alarm("busy", "RequestCount");
  a.on_alarm.clear();  // the hook fires with or without actions
  manager.configure({a}, 0);
  source.values[{"RequestCount", 0}] = 500;
  source.values[{"RequestCount", 60}] = 500;
  manager.evaluate(121, source);
  source.values[{"RequestCount", 120}] = 1;
  source.values[{"RequestCount", 180}] = 1;
  manager.evaluate(241, source);
  EXPECT_EQ(seen, (std::vector<std::string>{"busy:INSUFFICIENT_DATA->ALARM", "busy:ALARM->OK"}));
}

}  // namespace
}  // namespace ballast::alarms
