#include "control/cluster_series.h"

#include <algorithm>

namespace ballast::control {

using nlohmann::json;
using Kind = metrics::TimeSeriesStore::Kind;

namespace {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kCount:
      return "count";
    case Kind::kGauge:
      return "gauge";
    case Kind::kLatency:
      return "latency";
  }
  return "?";
}

std::optional<Kind> kind_named(const std::string& name) {
  if (name == "count") return Kind::kCount;
  if (name == "gauge") return Kind::kGauge;
  if (name == "latency") return Kind::kLatency;
  return std::nullopt;
}

json second_json(int64_t second, const metrics::Aggregate& a) {
  json buckets = json::array();
  for (const auto& [index, n] : a.buckets) buckets.push_back({index, n});
  return {second, a.sum, a.count, a.min, a.max, buckets};
}

metrics::Aggregate aggregate_of(const json& s) {
  metrics::Aggregate a;
  a.sum = s.at(1).get<double>();
  a.count = s.at(2).get<double>();
  a.min = s.at(3).get<double>();
  a.max = s.at(4).get<double>();
  for (const auto& b : s.at(5)) {
    a.buckets.emplace_back(b.at(0).get<uint16_t>(), b.at(1).get<uint32_t>());
  }
  // Aggregate::add merges sorted buckets.
  std::sort(a.buckets.begin(), a.buckets.end());
  return a;
}

}  // namespace

SeriesKeys shared_series(const config::Config& config) {
  using Metric = config::PolicyMetric::Kind;
  SeriesKeys keys;
  for (const auto& a : config.alarms) {
    if (a.rule.empty()) keys.insert({a.metric, a.dimensions});
  }
  for (const auto& g : config.autoscaling_groups) {
    for (const auto& p : g.policies) {
      if (p.metric.kind == Metric::kLatencyP95 || p.metric.kind == Metric::kLatencyP99) {
        keys.insert({"TargetResponseTime", {{"target_group", g.target_group}}});
      } else if (p.metric.kind == Metric::kCustom) {
        keys.insert({p.metric.metric, p.metric.dimensions});
      }
    }
  }
  return keys;
}

json series_json(const metrics::TimeSeriesStore& store, const SeriesKeys& keys, int64_t from,
                 int64_t to) {
  json out = json::array();
  for (const auto& key : keys) {
    auto kind = store.kind_of(key);
    if (!kind) continue;
    json seconds = json::array();
    for (const auto& [second, a] : store.seconds_of(key, from, to)) {
      if (!a.empty()) seconds.push_back(second_json(second, a));
    }
    if (seconds.empty()) continue;
    out.push_back({{"metric", key.metric},
                   {"dimensions", key.dimensions},
                   {"kind", kind_name(*kind)},
                   {"seconds", seconds}});
  }
  return out;
}

bool add_series(const json& series, metrics::TimeSeriesStore& into, std::string* error) {
  if (!series.is_array()) {
    *error = "\"series\" is not an array";
    return false;
  }
  try {
    for (const auto& s : series) {
      metrics::TimeSeriesStore::SeriesKey key{
          s.at("metric").get<std::string>(),
          s.at("dimensions").get<std::map<std::string, std::string>>()};
      auto kind = kind_named(s.at("kind").get<std::string>());
      if (!kind) {
        *error = "series " + key.metric + ": unknown kind " + s.at("kind").dump();
        return false;
      }
      for (const auto& second : s.at("seconds")) {
        into.add(key, *kind, second.at(0).get<int64_t>(), aggregate_of(second));
      }
    }
  } catch (const json::exception& e) {
    *error = std::string("a series is malformed: ") + e.what();
    return false;
  }
  return true;
}

void copy_series(const metrics::TimeSeriesStore& store, const SeriesKeys& keys, int64_t from,
                 int64_t to, metrics::TimeSeriesStore& into) {
  for (const auto& key : keys) {
    auto kind = store.kind_of(key);
    if (!kind) continue;
    for (const auto& [second, a] : store.seconds_of(key, from, to)) into.add(key, *kind, second, a);
  }
}

}  // namespace ballast::control
