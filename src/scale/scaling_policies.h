#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "scale/capacity_math.h"
#include "scale/external_metric.h"
#include "scale/scaling_group.h"

namespace ballast::scale {

// Where target tracking reads the metrics ballast measures itself: the value of a
// policy's metric over the whole seconds [from_s, to_s), for the instances counted (in
// service, warmed up); nullopt without data.
class MetricReader {
 public:
  virtual ~MetricReader() = default;
  virtual std::optional<double> read(const ScalingGroup& group,
                                     const config::ScalingPolicyConfig& policy, int64_t from_s,
                                     int64_t to_s) = 0;
};

// What step and simple scaling see of their alarm.
struct AlarmReading {
  bool in_alarm = false;
  int64_t evaluated = 0;        // changes with each evaluation (the newest period or transition)
  std::optional<double> value;  // the newest datapoint, for metric alarms
  double threshold = 0;
};
class AlarmView {
 public:
  virtual ~AlarmView() = default;
  virtual std::optional<AlarmReading> alarm(const std::string& name) const = 0;
};

// What a policy last concluded, for the API and the dashboard.
struct PolicyStatus {
  std::string name;
  std::string type;
  std::optional<double> metric;
  std::optional<int> recommendation;  // capacity it asks for; none: no change
  std::string note;                   // why not, when it did nothing useful
};

// A group's scaling policies, evaluated once a second. Target tracking: scale-out takes
// the highest recommendation at once, computed from the newest complete second when that is
// higher than the window (so a step in load gets the capacity it needs in one action); scale-in
// needs every policy with data to agree, no instance pending or warming up, and the stabilization
// window. Step and simple scaling act while their alarm is in ALARM, once per alarm evaluation
// (simple scaling after its cooldown, step scaling once the instances it launched are warm). Every
// change is bounded by min/max size and max_scale_out_step.
class ScalingPolicies {
 public:
  ScalingPolicies(core::EventLoop& loop, const config::AutoScalingGroupConfig& config);
  ~ScalingPolicies();
  void reconfigure(const config::AutoScalingGroupConfig& config);
  void poll(int64_t now_ms);  // external metrics
  void evaluate(ScalingGroup& group, MetricReader& metrics, const AlarmView& alarms, int64_t now_ms,
                int64_t unix_ms);
  const std::vector<PolicyStatus>& status() const { return status_; }

  // What a successor needs to go on: when each simple scaling policy's cooldown started, by
  // policy name, in Unix ms (monotonic clocks differ between nodes).
  std::map<std::string, int64_t> cooldowns(int64_t now_ms, int64_t unix_ms) const;
  // A new leader: its predecessor's cooldowns go on, and the capacity it finds counts as this
  // moment's recommendation, so that scale-in waits a whole stabilization window.
  void take_over(const std::map<std::string, int64_t>& cooldowns, int current, int64_t now_ms,
                 int64_t unix_ms);

 private:
  struct State {
    std::unique_ptr<ExternalMetric> external;
    int64_t last_evaluated = -1;  // alarm policies: the evaluation acted on
    Cooldown cooldown{0};
    bool waiting_for_capacity = false;  // step scaling: its last change is still warming up
  };
  void track_targets(ScalingGroup& g, MetricReader& metrics, int64_t now_ms, int64_t unix_ms);
  void follow_alarms(ScalingGroup& g, const AlarmView& alarms, int64_t now_ms);
  // A policy's metric over its window, and over the newest complete second alone (an
  // external metric has one value: both are it); nullopt without data.
  struct Reading {
    double window = 0;
    std::optional<double> newest;
  };
  std::optional<Reading> metric_of(size_t index, ScalingGroup& g, MetricReader& metrics,
                                   int64_t now_ms, int64_t unix_ms);
  Bounds bounds(const ScalingGroup& g) const;

  core::EventLoop& loop_;
  config::AutoScalingGroupConfig config_;
  std::vector<State> states_;  // by policy position
  std::vector<PolicyStatus> status_;
  Stabilizer stabilizer_;
};

std::string format_metric(double v);

}  // namespace ballast::scale
