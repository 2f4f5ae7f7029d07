#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace ballast::alarms {

enum class AlarmState { kOk, kAlarm, kInsufficientData };
const char* to_string(AlarmState s);

struct Datapoint {
  int64_t period_start = 0;     // Unix seconds
  std::optional<double> value;  // nullopt: no data in that period
};

struct Verdict {
  AlarmState state;
  std::string reason;
};

// CloudWatch's evaluation of a metric alarm over its last `evaluation_periods` datapoints
// (oldest first): ALARM when at least `datapoints_to_alarm` of them breach; OK when so
// few breach that the rest could not make up the difference; otherwise the state stays.
// Missing datapoints count as treat_missing_data says: breaching, not_breaching, or not
// at all (missing: INSUFFICIENT_DATA when every one is missing; ignore: the state stays).
// Pure: the caller gives the datapoints and the current state.
Verdict evaluate_metric_alarm(const config::AlarmConfig& alarm, AlarmState current,
                              const std::vector<Datapoint>& datapoints);

// Whether `value` is on the alarming side of the threshold.
bool breaches(const config::AlarmConfig& alarm, double value);

}  // namespace ballast::alarms
