#include "scale/scaling_policies.h"

#include <algorithm>
#include <cstdio>

#include "config/autoscaling_reader.h"

namespace ballast::scale {

namespace {

using Kind = config::PolicyMetric::Kind;
using Type = config::ScalingPolicyConfig::Type;

bool external(Kind k) {
  return k == Kind::kCommand || k == Kind::kHttpJson || k == Kind::kPrometheus;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kTargetTracking:
      return "target_tracking";
    case Type::kStepScaling:
      return "step_scaling";
    case Type::kSimpleScaling:
      return "simple_scaling";
  }
  return "?";
}

std::string metric_label(const config::PolicyMetric& m) {
  if (m.kind == Kind::kCustom) return m.metric;
  return config::policy_metric_name(m.kind);
}

}  // namespace

std::string format_metric(double v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

ScalingPolicies::ScalingPolicies(core::EventLoop& loop,
                                 const config::AutoScalingGroupConfig& config)
    : loop_(loop), stabilizer_(config.scale_in_stabilization_ms) {
  reconfigure(config);
}

ScalingPolicies::~ScalingPolicies() = default;

void ScalingPolicies::reconfigure(const config::AutoScalingGroupConfig& config) {
  if (config.scale_in_stabilization_ms != config_.scale_in_stabilization_ms)
    stabilizer_ = Stabilizer(config.scale_in_stabilization_ms);
  std::vector<State> states(config.policies.size());
  for (size_t i = 0; i < config.policies.size(); ++i) {
    const auto& p = config.policies[i];
    // A policy that keeps its name keeps its cooldown and alarm position.
    for (size_t old = 0; old < config_.policies.size() && old < states_.size(); ++old) {
      if (config_.policies[old].name == p.name && config_.policies[old].type == p.type) {
        states[i].last_evaluated = states_[old].last_evaluated;
        states[i].cooldown = states_[old].cooldown;
      }
    }
    if (p.type == Type::kTargetTracking && external(p.metric.kind)) {
      states[i].external = std::make_unique<ExternalMetric>(loop_, p.metric);
    }
    if (p.type == Type::kSimpleScaling) {
      states[i].cooldown.set_length(p.cooldown_ms.value_or(config.default_cooldown_ms));
    }
  }
  config_ = config;
  states_ = std::move(states);
  status_.assign(config_.policies.size(), PolicyStatus{});
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    status_[i].name = config_.policies[i].name;
    status_[i].type = type_name(config_.policies[i].type);
  }
}

void ScalingPolicies::poll(int64_t now_ms) {
  for (auto& s : states_) {
    if (s.external) s.external->poll(now_ms);
  }
}

Bounds ScalingPolicies::bounds(const ScalingGroup& g) const {
  return Bounds{g.min_size(), g.max_size(), static_cast<int>(config_.max_scale_out_step),
                static_cast<int>(config_.max_scale_out_step_percent)};
}

std::optional<ScalingPolicies::Reading> ScalingPolicies::metric_of(size_t index, ScalingGroup& g,
                                                                   MetricReader& metrics,
                                                                   int64_t now_ms,
                                                                   int64_t unix_ms) {
  const auto& p = config_.policies[index];
  Reading r;
  if (states_[index].external) {
    std::optional<double> v = states_[index].external->value(now_ms);
    if (!v) {
      if (!states_[index].external->last_error().empty())
        status_[index].note = states_[index].external->last_error();
      return std::nullopt;
    }
    r.window = *v;
    r.newest = *v;
  } else {
    int64_t end = unix_ms / 1000;  // exclusive: the newest complete second is end - 1
    int64_t window = std::max<int64_t>(1, p.window_ms / 1000);
    std::optional<double> v = metrics.read(g, p, end - window, end);
    if (!v) return std::nullopt;
    r.window = *v;
    r.newest = window > 1 ? metrics.read(g, p, end - 1, end) : v;
  }
  if (p.metric.per_instance && (p.metric.kind == Kind::kCustom || external(p.metric.kind))) {
    size_t n = g.counted(now_ms).size();
    if (n == 0) return std::nullopt;
    r.window /= static_cast<double>(n);
    if (r.newest) *r.newest /= static_cast<double>(n);
  }
  return r;
}

void ScalingPolicies::evaluate(ScalingGroup& g, MetricReader& metrics, const AlarmView& alarms,
                               int64_t now_ms, int64_t unix_ms) {
  track_targets(g, metrics, now_ms, unix_ms);
  follow_alarms(g, alarms, now_ms);
}

void ScalingPolicies::track_targets(ScalingGroup& g, MetricReader& metrics, int64_t now_ms,
                                    int64_t unix_ms) {
  int current = g.desired();
  int counted = static_cast<int>(g.counted(now_ms).size());
  int best = -1;
  std::string best_cause;
  bool any = false;
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    const auto& p = config_.policies[i];
    if (p.type != Type::kTargetTracking) continue;
    PolicyStatus& st = status_[i];
    st.note.clear();
    std::optional<Reading> reading = metric_of(i, g, metrics, now_ms, unix_ms);
    st.metric = reading ? std::optional<double>(reading->window) : std::nullopt;
    st.recommendation.reset();
    // Without data a policy abstains (a latency policy has none while nothing is served);
    // when every policy abstains, nothing changes.
    if (!reading) {
      if (st.note.empty()) st.note = "no data";
      continue;
    }
    if (counted == 0) {
      st.note = "no instance in service and warmed up to measure";
      continue;
    }
    any = true;
    TrackingAnswer answer = target_tracking_now(counted, current, reading->window, reading->newest,
                                                p.target, p.tolerance);
    int rec = current;  // within tolerance: hold
    if (answer.desired) {
      st.recommendation = *answer.desired;
      rec = *answer.desired;
    } else {
      st.note = "within tolerance";
    }
    if (p.disable_scale_in) rec = std::max(rec, current);
    if (rec > best) {
      best = rec;
      best_cause = "target tracking policy " + p.name + " (" + metric_label(p.metric) + " " +
                   format_metric(answer.basis) +
                   (answer.from_newest ? " in the newest second" : "") + ", target " +
                   format_metric(p.target) + ")";
    }
  }
  if (!any) return;
  // Instances still starting or warming: no scale-in (their load is not measured yet).
  if (best < current && g.warming(now_ms)) best = current;
  int decided = stabilizer_.decide(now_ms, current, best);
  if (decided == current) return;
  int next = bound(current, decided, bounds(g));
  if (next == current) return;
  if (next < current) best_cause = "every target tracking policy agrees on scale-in; " + best_cause;
  g.set_desired(next, best_cause);
}

std::map<std::string, int64_t> ScalingPolicies::cooldowns(int64_t now_ms, int64_t unix_ms) const {
  std::map<std::string, int64_t> out;
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    if (auto started = states_[i].cooldown.started_ms())
      out[config_.policies[i].name] = unix_ms - (now_ms - *started);
  }
  return out;
}

void ScalingPolicies::take_over(const std::map<std::string, int64_t>& cooldowns, int current,
                                int64_t now_ms, int64_t unix_ms) {
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    auto it = cooldowns.find(config_.policies[i].name);
    if (it != cooldowns.end() && config_.policies[i].type == Type::kSimpleScaling)
      states_[i].cooldown.started(now_ms - std::max<int64_t>(0, unix_ms - it->second));
  }
  stabilizer_.decide(now_ms, current, current);
}

void ScalingPolicies::follow_alarms(ScalingGroup& g, const AlarmView& alarms, int64_t now_ms) {
  for (size_t i = 0; i < config_.policies.size(); ++i) {
    const auto& p = config_.policies[i];
    if (p.type == Type::kTargetTracking) continue;
    State& s = states_[i];
    PolicyStatus& st = status_[i];
    auto reading = alarms.alarm(p.alarm);
    if (!reading) {
      st.note = "alarm " + p.alarm + " does not exist";
      continue;
    }
    st.metric = reading->value;
    st.note = reading->in_alarm ? "alarm in ALARM" : "alarm not in ALARM";
    if (!reading->in_alarm || reading->evaluated == s.last_evaluated) continue;
    int current = g.desired();
    std::optional<int> want;
    if (p.type == Type::kSimpleScaling) {
      if (!s.cooldown.ready(now_ms)) {
        st.note = "in cooldown";
        continue;
      }
      want = adjust(current, p.adjustment, p.adjustment_type,
                    static_cast<int>(p.min_adjustment_magnitude));
    } else {
      // Until the capacity the last step asked for is warm, the same breach asks nothing
      // more (AWS counts warming instances as already there).
      if (s.waiting_for_capacity && g.warming(now_ms)) continue;
      s.waiting_for_capacity = false;
      if (!reading->value) continue;
      want = step_scaling_desired(current, *reading->value, reading->threshold, p.steps,
                                  p.adjustment_type, static_cast<int>(p.min_adjustment_magnitude));
    }
    s.last_evaluated = reading->evaluated;
    st.recommendation = want;
    if (!want) continue;
    int next = bound(current, *want, bounds(g));
    if (next == current) continue;
    std::string cause = "alarm " + p.alarm + " in ALARM triggered policy " + p.name;
    g.set_desired(next, cause);
    if (p.type == Type::kSimpleScaling) s.cooldown.started(now_ms);
    if (p.type == Type::kStepScaling) s.waiting_for_capacity = true;
  }
}

}  // namespace ballast::scale
