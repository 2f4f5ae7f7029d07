#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "alarms/metric_alarm.h"
#include "config/config.h"

namespace ballast::alarms {

// Where metric alarms read their datapoints: the statistic of one period.
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  virtual std::optional<double> datapoint(const config::AlarmConfig& alarm,
                                          int64_t period_start) = 0;
};

struct Transition {
  int64_t time = 0;  // Unix seconds
  AlarmState from = AlarmState::kInsufficientData;
  AlarmState to = AlarmState::kInsufficientData;
  std::string reason;
};

struct AlarmStatus {
  config::AlarmConfig config;
  AlarmState state = AlarmState::kInsufficientData;
  std::string reason = "Unchecked: initial alarm creation";
  int64_t state_since = 0;
  int64_t last_period = -1;          // metric alarms: the newest period evaluated
  std::optional<double> last_value;  // metric alarms: its datapoint (step scaling reads it)
  std::deque<Transition> history;    // newest last, at most kHistory
  static constexpr size_t kHistory = 100;
};

// Every alarm of the configuration, their states and histories. Metric alarms are
// evaluated once per period, as soon as a period is complete (a second after its end,
// when its last datapoint is in the store); composites after them, on every call.
// Driven by the caller's clock, so tests run it with a fake one.
class AlarmManager {
 public:
  // Called for each action of the state an alarm enters (log, webhook), and for every
  // transition on `on_transition` (scaling-policy hooks subscribe there).
  using ActionFn =
      std::function<void(const AlarmStatus&, const config::AlarmAction&, const Transition&)>;
  using TransitionFn = std::function<void(const AlarmStatus&, const Transition&)>;
  explicit AlarmManager(ActionFn on_action, TransitionFn on_transition = nullptr)
      : on_action_(std::move(on_action)), on_transition_(std::move(on_transition)) {}

  // A (re)loaded configuration: alarms that keep their name keep their state and history.
  void configure(const std::vector<config::AlarmConfig>& alarms, int64_t now);
  void evaluate(int64_t now, MetricSource& source);
  const std::vector<AlarmStatus>& alarms() const { return alarms_; }
  const AlarmStatus* find(const std::string& name) const;

  // The newest complete period for `period_s` at `now`.
  static int64_t last_complete_period(int64_t now, int64_t period_s);

 private:
  void set_state(AlarmStatus& a, AlarmState state, const std::string& reason, int64_t now);

  ActionFn on_action_;
  TransitionFn on_transition_;
  std::vector<AlarmStatus> alarms_;
};

}  // namespace ballast::alarms
