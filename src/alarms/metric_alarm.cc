#include "alarms/metric_alarm.h"

#include <cstdio>
#include <ctime>

namespace ballast::alarms {

const char* to_string(AlarmState s) {
  switch (s) {
    case AlarmState::kOk:
      return "OK";
    case AlarmState::kAlarm:
      return "ALARM";
    case AlarmState::kInsufficientData:
      return "INSUFFICIENT_DATA";
  }
  return "?";
}

bool breaches(const config::AlarmConfig& a, double v) {
  using C = config::AlarmConfig::Comparison;
  switch (a.comparison) {
    case C::kGreater:
      return v > a.threshold;
    case C::kGreaterOrEqual:
      return v >= a.threshold;
    case C::kLess:
      return v < a.threshold;
    case C::kLessOrEqual:
      return v <= a.threshold;
  }
  return false;
}

namespace {
const char* comparison_words(config::AlarmConfig::Comparison c) {
  using C = config::AlarmConfig::Comparison;
  switch (c) {
    case C::kGreater:
      return "greater than";
    case C::kGreaterOrEqual:
      return "greater than or equal to";
    case C::kLess:
      return "less than";
    case C::kLessOrEqual:
      return "less than or equal to";
  }
  return "?";
}

// "[5.2 (13:41:00), missing (13:41:10)]"
std::string list_datapoints(const std::vector<Datapoint>& dps) {
  std::string out = "[";
  for (size_t i = dps.size(); i-- > 0;) {  // newest first, as CloudWatch's reasons
    char time_text[16];
    time_t t = static_cast<time_t>(dps[i].period_start);
    tm utc{};
    gmtime_r(&t, &utc);
    strftime(time_text, sizeof(time_text), "%H:%M:%S", &utc);
    char value[32];
    if (dps[i].value) {
      snprintf(value, sizeof(value), "%g", *dps[i].value);
    } else {
      snprintf(value, sizeof(value), "missing");
    }
    out += std::string(value) + " (" + time_text + ")" + (i > 0 ? ", " : "");
  }
  return out + "]";
}
}  // namespace

Verdict evaluate_metric_alarm(const config::AlarmConfig& a, AlarmState current,
                              const std::vector<Datapoint>& dps) {
  using M = config::AlarmConfig::MissingData;
  size_t n = dps.size();
  size_t m = a.datapoints_to_alarm;
  size_t breaching = 0, good = 0, unknown = 0;
  for (const auto& dp : dps) {
    if (dp.value) {
      (breaches(a, *dp.value) ? breaching : good)++;
    } else if (a.treat_missing_data == M::kBreaching) {
      ++breaching;
    } else if (a.treat_missing_data == M::kNotBreaching) {
      ++good;
    } else {
      ++unknown;
    }
  }
  std::string threshold_text;
  {
    char buf[64];
    snprintf(buf, sizeof(buf), "%g", a.threshold);
    threshold_text = buf;
  }
  if (unknown == n) {
    if (a.treat_missing_data == M::kIgnore) {
      return {current, "no datapoints in the last " + std::to_string(n) +
                           " periods; state kept (treat_missing_data: ignore)"};
    }
    return {AlarmState::kInsufficientData,
            "Insufficient Data: " + std::to_string(n) +
                " datapoints were unknown (treat_missing_data: missing)."};
  }
  std::string seen = list_datapoints(dps);
  if (breaching >= m) {
    return {AlarmState::kAlarm, "Threshold Crossed: " + std::to_string(breaching) +
                                    " out of the last " + std::to_string(n) + " datapoints " +
                                    seen + " were " + comparison_words(a.comparison) +
                                    " the threshold (" + threshold_text + ") (minimum " +
                                    std::to_string(m) + " datapoints for OK -> ALARM transition)."};
  }
  if (good > n - m) {
    return {AlarmState::kOk, "Threshold Crossed: " + std::to_string(good) + " out of the last " +
                                 std::to_string(n) + " datapoints " + seen + " were not " +
                                 comparison_words(a.comparison) + " the threshold (" +
                                 threshold_text + ") (minimum " + std::to_string(n - m + 1) +
                                 " datapoints for ALARM -> OK transition)."};
  }
  return {current, "undecided: " + std::to_string(breaching) + " breaching, " +
                       std::to_string(good) + " not, " + std::to_string(unknown) +
                       " missing of the last " + std::to_string(n) + " datapoints " + seen};
}

}  // namespace ballast::alarms
