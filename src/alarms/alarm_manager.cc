#include "alarms/alarm_manager.h"

namespace ballast::alarms {

int64_t AlarmManager::last_complete_period(int64_t now, int64_t period_s) {
  // A period [p, p + P) is complete once its last second has been sampled, about a second
  // after it ends.
  int64_t latest_end = now - 1;
  int64_t p = latest_end - period_s;
  return p - ((p % period_s) + period_s) % period_s;
}

void AlarmManager::configure(const std::vector<config::AlarmConfig>& alarms, int64_t now) {
  std::vector<AlarmStatus> next;
  for (const auto& c : alarms) {
    AlarmStatus status;
    for (auto& old : alarms_) {
      if (old.config.name == c.name) status = std::move(old);
    }
    bool fresh = status.config.name.empty();
    status.config = c;
    if (fresh) status.state_since = now;
    next.push_back(std::move(status));
  }
  alarms_ = std::move(next);
}

const AlarmStatus* AlarmManager::find(const std::string& name) const {
  for (const auto& a : alarms_) {
    if (a.config.name == name) return &a;
  }
  return nullptr;
}

void AlarmManager::set_state(AlarmStatus& a, AlarmState state, const std::string& reason,
                             int64_t now) {
  a.reason = reason;
  if (state == a.state) return;
  Transition t{now, a.state, state, reason};
  a.state = state;
  a.state_since = now;
  a.history.push_back(t);
  while (a.history.size() > AlarmStatus::kHistory) a.history.pop_front();
  const auto& actions = state == AlarmState::kAlarm ? a.config.on_alarm
                        : state == AlarmState::kOk  ? a.config.on_ok
                                                    : a.config.on_insufficient_data;
  for (const auto& action : actions) on_action_(a, action, t);
  if (on_transition_) on_transition_(a, t);
}

void AlarmManager::evaluate(int64_t now, MetricSource& source) {
  for (auto& a : alarms_) {
    if (!a.config.rule.empty()) continue;
    int64_t period = a.config.period_s;
    int64_t last = last_complete_period(now, period);
    if (last <= a.last_period) continue;
    a.last_period = last;
    std::vector<Datapoint> dps;
    for (int64_t k = a.config.evaluation_periods; k-- > 0;) {
      int64_t start = last - k * period;
      dps.push_back(Datapoint{start, source.datapoint(a.config, start)});
    }
    a.last_value = dps.back().value;
    Verdict v = evaluate_metric_alarm(a.config, a.state, dps);
    set_state(a, v.state, v.reason, now);
  }
  // Composites read the states just set; a composite may name another composite, which
  // validation keeps acyclic: repeat until nothing changes (at most once per alarm).
  for (size_t round = 0; round < alarms_.size(); ++round) {
    bool changed = false;
    for (auto& a : alarms_) {
      if (a.config.rule.empty() || !a.config.parsed_rule) continue;
      bool on = a.config.parsed_rule->evaluate([&](const std::string& name) {
        const AlarmStatus* other = find(name);
        return std::string(other != nullptr ? to_string(other->state) : "INSUFFICIENT_DATA");
      });
      AlarmState state = on ? AlarmState::kAlarm : AlarmState::kOk;
      if (state != a.state) changed = true;
      set_state(a, state, on ? "rule is true: " + a.config.rule : "rule is false: " + a.config.rule,
                now);
    }
    if (!changed) break;
  }
}

}  // namespace ballast::alarms
