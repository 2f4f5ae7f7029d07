// Alarms on the control thread: their datapoints come from the time-series store, their
// actions go to the log and to webhooks, and the API shows their states and histories.
#include <ctime>

#include "config/alarm_reader.h"
#include "control/cluster_series.h"
#include "control/controller.h"
#include "core/log.h"
#include "core/time_format.h"
#include "metrics/time_series.h"

namespace ballast::control {

using nlohmann::json;

namespace {

// The store as alarms see it: one period's statistic of the alarm's series.
class StoreSource final : public alarms::MetricSource {
 public:
  explicit StoreSource(const metrics::TimeSeriesStore& store) : store_(store) {}
  std::optional<double> datapoint(const config::AlarmConfig& a, int64_t start) override {
    auto stat = metrics::Statistic::parse(a.statistic);
    if (!stat) return std::nullopt;
    auto points =
        store_.query({a.metric, a.dimensions}, *stat, start, start + a.period_s, a.period_s);
    if (points.empty()) return std::nullopt;
    return points.front().second;
  }

 private:
  const metrics::TimeSeriesStore& store_;
};

json trigger_json(const config::AlarmConfig& c) {
  if (!c.rule.empty()) return {{"Rule", c.rule}};
  json dims = json::array();
  for (const auto& [k, v] : c.dimensions) dims.push_back({{"name", k}, {"value", v}});
  return {{"MetricName", c.metric},
          {"Dimensions", dims},
          {"Statistic", c.statistic},
          {"Period", c.period_s},
          {"EvaluationPeriods", c.evaluation_periods},
          {"DatapointsToAlarm", c.datapoints_to_alarm},
          {"Threshold", c.threshold},
          {"ComparisonOperator", config::comparison_name(c.comparison)},
          {"TreatMissingData", config::missing_data_name(c.treat_missing_data)}};
}

}  // namespace

void Controller::evaluate_alarms(int64_t second) {
  if (!cluster_series_) {
    StoreSource source(series_);
    alarms_.evaluate(second + 1, source);
    return;
  }
  // The cluster's leader: its own second joins the peers'. A peer samples a second within
  // 100 ms of its end and the leader asks once a second, so a period is evaluated two
  // seconds later than alone, when every peer's figures for it are in.
  copy_series(series_, shared_series(*config_), second, second + 1, *cluster_series_);
  StoreSource source(*cluster_series_);
  alarms_.evaluate(second - 1, source);
}

void Controller::run_alarm_action(const alarms::AlarmStatus& a, const config::AlarmAction& action,
                                  const alarms::Transition& t) {
  if (action.kind == config::AlarmAction::Kind::kLog) {
    LOG_WARN("alarm \"%s\": %s -> %s: %s", a.config.name.c_str(), alarms::to_string(t.from),
             alarms::to_string(t.to), t.reason.c_str());
    return;
  }
  // In a cluster the leader notifies, once, on the whole cluster's figures; the other nodes
  // evaluate their own for their own pages.
  if (cluster_ && !cluster_series_) return;
  // The shape of CloudWatch's alarm notification, so existing receivers understand it.
  json body = {{"AlarmName", a.config.name},
               {"AlarmDescription", a.config.description},
               {"NewStateValue", alarms::to_string(t.to)},
               {"OldStateValue", alarms::to_string(t.from)},
               {"NewStateReason", t.reason},
               {"StateChangeTime", core::iso8601_utc(t.time)},
               {"Trigger", trigger_json(a.config)}};
  webhooks_.send(action, body.dump());
}

json Controller::alarms_json(const std::string& only) const {
  json list = json::array();
  for (const auto& a : alarms_.alarms()) {
    if (!only.empty() && a.config.name != only) continue;
    json history = json::array();
    for (auto it = a.history.rbegin(); it != a.history.rend(); ++it) {
      history.push_back({{"time", core::iso8601_utc(it->time)},
                         {"from", alarms::to_string(it->from)},
                         {"to", alarms::to_string(it->to)},
                         {"reason", it->reason}});
    }
    list.push_back({{"name", a.config.name},
                    {"type", a.config.rule.empty() ? "metric" : "composite"},
                    {"description", a.config.description},
                    {"state", alarms::to_string(a.state)},
                    // Whose figures: the whole cluster's on its leader, else this node's.
                    {"scope", cluster_series_ ? "cluster" : "node"},
                    {"reason", a.reason},
                    {"state_since", core::iso8601_utc(a.state_since)},
                    {"trigger", trigger_json(a.config)},
                    {"history", history}});
  }
  return list;
}

}  // namespace ballast::control
