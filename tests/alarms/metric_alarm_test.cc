#include "alarms/metric_alarm.h"

#include <gtest/gtest.h>

namespace ballast::alarms {
namespace {

using Missing = config::AlarmConfig::MissingData;
constexpr double kNo = -1;  // marks a missing datapoint in the helpers below

config::AlarmConfig alarm(uint32_t n, uint32_t m, Missing missing = Missing::kMissing) {
  config::AlarmConfig a;
  a.name = "a";
  a.metric = "RequestCount";
  a.threshold = 10;
  a.comparison = config::AlarmConfig::Comparison::kGreater;
  a.evaluation_periods = n;
  a.datapoints_to_alarm = m;
  a.treat_missing_data = missing;
  return a;
}

std::vector<Datapoint> points(std::vector<double> values) {
  std::vector<Datapoint> out;
  int64_t t = 1000;
  for (double v : values) {
    out.push_back(Datapoint{t, v == kNo ? std::nullopt : std::optional<double>(v)});
    t += 60;
  }
  return out;
}

AlarmState verdict(const config::AlarmConfig& a, AlarmState current, std::vector<double> values) {
  return evaluate_metric_alarm(a, current, points(std::move(values))).state;
}

TEST(MetricAlarmTest, MOutOfN) {
  auto a = alarm(3, 2);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {20, 5, 20}), AlarmState::kAlarm) << "2 of 3 breach";
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {20, 5, 5}), AlarmState::kOk) << "only 1 of 3";
  EXPECT_EQ(verdict(a, AlarmState::kOk, {10, 10, 11}), AlarmState::kOk) << "10 is not > 10";
  auto all = alarm(3, 3);
  EXPECT_EQ(verdict(all, AlarmState::kOk, {20, 20, 5}), AlarmState::kOk);
  EXPECT_EQ(verdict(all, AlarmState::kOk, {20, 20, 20}), AlarmState::kAlarm);
}

TEST(MetricAlarmTest, ComparisonsAndTheReason) {
  auto a = alarm(1, 1);
  a.comparison = config::AlarmConfig::Comparison::kLessOrEqual;
  EXPECT_EQ(verdict(a, AlarmState::kOk, {10}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {10.5}), AlarmState::kOk);
  auto v = evaluate_metric_alarm(alarm(2, 2), AlarmState::kOk, points({11, 12}));
  EXPECT_NE(v.reason.find("2 out of the last 2 datapoints [12 (00:17:40), 11 (00:16:40)] were "
                          "greater than the threshold (10)"),
            std::string::npos)
      << v.reason;
}

TEST(MetricAlarmTest, TreatMissingDataMissing) {
  auto a = alarm(3, 2, Missing::kMissing);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {kNo, kNo, kNo}), AlarmState::kInsufficientData);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {20, kNo, 20}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {5, 5, kNo}), AlarmState::kOk)
      << "two good of three: the missing one cannot make two breaches";
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {20, kNo, kNo}), AlarmState::kAlarm)
      << "undecided: the state stays";
  EXPECT_EQ(verdict(a, AlarmState::kOk, {20, kNo, kNo}), AlarmState::kOk);
}

TEST(MetricAlarmTest, TreatMissingDataBreaching) {
  auto a = alarm(3, 2, Missing::kBreaching);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {kNo, kNo, kNo}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {5, kNo, kNo}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {5, 5, kNo}), AlarmState::kOk);
}

TEST(MetricAlarmTest, TreatMissingDataNotBreaching) {
  auto a = alarm(3, 2, Missing::kNotBreaching);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {kNo, kNo, kNo}), AlarmState::kOk);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {20, kNo, 20}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {20, kNo, kNo}), AlarmState::kOk);
}

TEST(MetricAlarmTest, TreatMissingDataIgnore) {
  auto a = alarm(3, 2, Missing::kIgnore);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {kNo, kNo, kNo}), AlarmState::kAlarm) << "kept";
  EXPECT_EQ(verdict(a, AlarmState::kOk, {kNo, kNo, kNo}), AlarmState::kOk) << "kept";
  EXPECT_EQ(verdict(a, AlarmState::kInsufficientData, {kNo, kNo, kNo}),
            AlarmState::kInsufficientData);
  EXPECT_EQ(verdict(a, AlarmState::kOk, {20, kNo, 20}), AlarmState::kAlarm);
  EXPECT_EQ(verdict(a, AlarmState::kAlarm, {5, 5, kNo}), AlarmState::kOk);
}

}  // namespace
}  // namespace ballast::alarms
