#include "config/alarm_reader.h"

#include "config/yaml_reader.h"
#include "http/url.h"
#include "metrics/time_series.h"

namespace ballast::config {

namespace {

// CloudWatch's names, and the short forms the file may use too.
struct ComparisonName {
  AlarmConfig::Comparison value;
  const char* name;
  const char* symbol;
};
constexpr ComparisonName kComparisons[] = {
    {AlarmConfig::Comparison::kGreater, "GreaterThanThreshold", ">"},
    {AlarmConfig::Comparison::kGreaterOrEqual, "GreaterThanOrEqualToThreshold", ">="},
    {AlarmConfig::Comparison::kLess, "LessThanThreshold", "<"},
    {AlarmConfig::Comparison::kLessOrEqual, "LessThanOrEqualToThreshold", "<="},
};

struct MissingDataName {
  AlarmConfig::MissingData value;
  const char* name;
  const char* cloudwatch;  // CloudWatch's spelling
};
constexpr MissingDataName kMissingData[] = {
    {AlarmConfig::MissingData::kMissing, "missing", "missing"},
    {AlarmConfig::MissingData::kNotBreaching, "not_breaching", "notBreaching"},
    {AlarmConfig::MissingData::kBreaching, "breaching", "breaching"},
    {AlarmConfig::MissingData::kIgnore, "ignore", "ignore"},
};

bool parse_comparison(const std::string& text, AlarmConfig::Comparison* out) {
  for (const auto& c : kComparisons) {
    if (text == c.name || text == c.symbol) {
      *out = c.value;
      return true;
    }
  }
  return false;
}

bool parse_missing(const std::string& text, AlarmConfig::MissingData* out) {
  for (const auto& m : kMissingData) {
    if (text == m.name || text == m.cloudwatch) {
      *out = m.value;
      return true;
    }
  }
  return false;
}

std::vector<AlarmAction> read_actions(const YAML::Node& list, const std::string& path,
                                      ErrorList& errors) {
  std::vector<AlarmAction> out;
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence()) {
    errors.add(location_of(list), path, "expected a list of actions, such as [{ log: true }]");
    return out;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string item_path = path + "[" + std::to_string(i) + "]";
    MapReader a(list[i], item_path, errors);
    AlarmAction action;
    action.location = a.location();
    int kinds = a.has("log") + a.has("webhook");
    if (a.is_map() && kinds != 1) {
      errors.add(a.location(), item_path, "an action is { log: true } or { webhook: URL }");
    }
    if (a.has("webhook")) {
      action.kind = AlarmAction::Kind::kWebhook;
      if (auto url = a.string("webhook")) {
        std::string error;
        if (!parse_webhook_url(*url, &action, &error)) {
          errors.add(location_of(a.node("webhook")), a.child_path("webhook"), error);
        }
      }
    } else if (a.has("log")) {
      action.kind = AlarmAction::Kind::kLog;
      a.boolean("log");
    }
    a.finish();
    out.push_back(std::move(action));
  }
  return out;
}

void read_metric_alarm(MapReader& r, AlarmConfig& a, ErrorList& errors) {
  if (auto v = r.string("metric", true)) a.metric = *v;
  if (r.has("dimensions")) {
    YAML::Node d = r.node("dimensions");
    if (!d.IsMap()) {
      errors.add(location_of(d), r.child_path("dimensions"),
                 "expected a map, such as { target_group: app }");
    } else {
      for (const auto& kv : d)
        a.dimensions[kv.first.as<std::string>("")] = kv.second.as<std::string>("");
    }
  } else {
    r.node("dimensions");
  }
  if (auto v = r.string("statistic")) {
    a.statistic = *v;
    if (!metrics::Statistic::parse(*v)) {
      errors.add(location_of(r.node("statistic")), r.child_path("statistic"),
                 "unknown statistic \"" + *v +
                     "\"; expected Average, Sum, Minimum, Maximum, SampleCount or pNN such as p99");
    }
  }
  if (auto v = r.duration_ms("period", 1000, int64_t{86400} * 1000)) {
    a.period_s = *v / 1000;
    if (*v % 1000 != 0) {
      errors.add(location_of(r.node("period")), r.child_path("period"),
                 "a period is whole seconds");
    }
  }
  if (auto v = r.integer("evaluation_periods", 1, 1440))
    a.evaluation_periods = static_cast<uint32_t>(*v);
  if (auto v = r.integer("datapoints_to_alarm", 1, 1440)) {
    a.datapoints_to_alarm = static_cast<uint32_t>(*v);
    if (a.datapoints_to_alarm > a.evaluation_periods) {
      errors.add(location_of(r.node("datapoints_to_alarm")), r.child_path("datapoints_to_alarm"),
                 "datapoints_to_alarm (" + std::to_string(a.datapoints_to_alarm) +
                     ") cannot exceed evaluation_periods (" + std::to_string(a.evaluation_periods) +
                     ")");
    }
  }
  if (auto v = r.number("threshold")) {
    a.threshold = *v;
  } else if (r.is_map() && !r.has("threshold")) {
    errors.add(r.location(), r.child_path("threshold"), "a metric alarm needs a threshold");
  }
  if (auto v = r.string("comparison")) {
    if (!parse_comparison(*v, &a.comparison)) {
      errors.add(location_of(r.node("comparison")), r.child_path("comparison"),
                 "unknown comparison \"" + *v +
                     "\"; expected GreaterThanThreshold, GreaterThanOrEqualToThreshold, "
                     "LessThanThreshold or LessThanOrEqualToThreshold (or >, >=, <, <=)");
    }
  }
  if (auto v = r.string("treat_missing_data")) {
    if (!parse_missing(*v, &a.treat_missing_data)) {
      errors.add(
          location_of(r.node("treat_missing_data")), r.child_path("treat_missing_data"),
          "unknown value \"" + *v + "\"; expected missing, not_breaching, breaching or ignore");
    }
  }
}

}  // namespace

const char* comparison_name(AlarmConfig::Comparison c) {
  for (const auto& x : kComparisons) {
    if (x.value == c) return x.name;
  }
  return "?";
}

const char* missing_data_name(AlarmConfig::MissingData m) {
  for (const auto& x : kMissingData) {
    if (x.value == m) return x.name;
  }
  return "?";
}

bool parse_webhook_url(const std::string& url, AlarmAction* action, std::string* error) {
  action->url = url;
  http::HttpUrl parsed;
  if (!http::parse_http_url(url, &parsed, error)) {
    *error = "webhook " + *error;
    return false;
  }
  action->address = parsed.address;
  action->host = parsed.host;
  action->path = parsed.path;
  return true;
}

AlarmConfig read_alarm(const YAML::Node& node, const std::string& path, ErrorList& errors) {
  AlarmConfig a;
  MapReader r(node, path, errors);
  a.location = r.location();
  if (auto v = r.string("name", true)) a.name = *v;
  if (auto v = r.string("description")) a.description = *v;
  if (r.has("rule")) {
    if (auto v = r.string("rule")) a.rule = *v;
    a.rule_location = location_of(r.node("rule"));
    for (const char* key :
         {"metric", "dimensions", "statistic", "period", "evaluation_periods",
          "datapoints_to_alarm", "threshold", "comparison", "treat_missing_data"}) {
      if (r.has(key)) {
        errors.add(r.key_location(key), r.child_path(key),
                   std::string("a composite alarm (rule) has no ") + key);
        r.node(key);
      }
    }
  } else {
    read_metric_alarm(r, a, errors);
  }
  if (a.datapoints_to_alarm == 0) a.datapoints_to_alarm = a.evaluation_periods;
  if (r.has("actions")) {
    MapReader actions(r.node("actions"), r.child_path("actions"), errors);
    a.on_alarm = read_actions(actions.node("alarm"), actions.child_path("alarm"), errors);
    a.on_ok = read_actions(actions.node("ok"), actions.child_path("ok"), errors);
    a.on_insufficient_data = read_actions(actions.node("insufficient_data"),
                                          actions.child_path("insufficient_data"), errors);
    actions.finish();
  } else {
    r.node("actions");
  }
  r.finish();
  return a;
}

}  // namespace ballast::config
