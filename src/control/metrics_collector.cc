#include "control/metrics_collector.h"

namespace ballast::control {

namespace {
using Kind = metrics::TimeSeriesStore::Kind;
using Key = metrics::TimeSeriesStore::SeriesKey;

const char* kClassNames[] = {"", "1XX", "2XX", "3XX", "4XX", "5XX"};

// Cumulative figures of one listener or group, summed over the workers.
struct Totals {
  std::map<std::string, double> counts;
  metrics::HistogramSnapshot latency;
};
}  // namespace

void MetricsCollector::count(const Key& key, int64_t second, double cumulative) {
  auto [it, fresh] = last_counts_.emplace(key, cumulative);
  // The first sight of a series only sets its baseline (counts since the process started
  // are not this second's); a count that went down was reset (a worker's block was
  // replaced), so the new value is all new.
  double delta = fresh ? 0 : (cumulative >= it->second ? cumulative - it->second : cumulative);
  it->second = cumulative;
  store_.record(key, Kind::kCount, second, delta);
}

void MetricsCollector::latency(const Key& key, int64_t second,
                               const metrics::HistogramSnapshot& cumulative) {
  auto it = last_histograms_.find(key);
  metrics::HistogramSnapshot delta =
      it == last_histograms_.end() ? metrics::HistogramSnapshot{} : cumulative.minus(it->second);
  last_histograms_[key] = cumulative;
  store_.record_latency(key, second, delta);
}

void MetricsCollector::sample(int64_t second, const TargetRegistry& targets, double cpu_percent,
                              double resident_bytes) {
  std::map<std::string, Totals> listeners, groups;
  source_.for_each_listener([&](const std::string& name, const metrics::ListenerStats& s) {
    Totals& t = listeners[name];
    t.counts["RequestCount"] += static_cast<double>(s.requests.get());
    t.counts["NewConnectionCount"] += static_cast<double>(s.connections.get());
    t.counts["ActiveConnectionCount"] += static_cast<double>(s.active_connections.get());
    t.counts["ProcessedBytes"] += static_cast<double>(s.bytes_in.get() + s.bytes_out.get());
    for (int c = 2; c <= 5; ++c) {
      t.counts[std::string("HTTPCode_") + kClassNames[c] + "_Count"] +=
          static_cast<double>(s.responses.by_class[c].get());
    }
    t.latency.add(s.total_time);
  });
  source_.for_each_group([&](const std::string& name, const metrics::GroupStats& s) {
    Totals& t = groups[name];
    t.counts["RequestCount"] += static_cast<double>(s.requests.get());
    t.counts["RetryCount"] += static_cast<double>(s.retries.get());
    t.counts["EjectionCount"] += static_cast<double>(s.ejections.get());
    t.counts["NoTargetCount"] += static_cast<double>(s.no_target.get());
    t.counts["FailOpenRequestCount"] += static_cast<double>(s.fail_open_picks.get());
    double rejected = 0;
    for (const auto& c : s.breaker_rejections) rejected += static_cast<double>(c.get());
    t.counts["CircuitBreakerRejectedCount"] += rejected;
    for (int c = 2; c <= 5; ++c) {
      t.counts[std::string("HTTPCode_Target_") + kClassNames[c] + "_Count"] +=
          static_cast<double>(s.responses.by_class[c].get());
    }
    t.latency.add(s.response_time);
  });
  for (const auto& [name, t] : listeners) {
    for (const auto& [metric, value] : t.counts) {
      Key key{metric, {{"listener", name}}};
      if (metric == "ActiveConnectionCount") {
        store_.record(key, Kind::kGauge, second, value);
      } else {
        count(key, second, value);
      }
    }
    latency(Key{"RequestTime", {{"listener", name}}}, second, t.latency);
  }
  for (const auto& [name, t] : groups) {
    for (const auto& [metric, value] : t.counts)
      count(Key{metric, {{"target_group", name}}}, second, value);
    latency(Key{"TargetResponseTime", {{"target_group", name}}}, second, t.latency);
  }
  for (const auto& g : targets.groups()) {
    double healthy = 0, unhealthy = 0;
    for (const auto& t : g.targets) {
      (g.state_of(t) == TargetState::kHealthy ? healthy : unhealthy) += 1;
    }
    store_.record(Key{"HealthyHostCount", {{"target_group", g.name}}}, Kind::kGauge, second,
                  healthy);
    store_.record(Key{"UnHealthyHostCount", {{"target_group", g.name}}}, Kind::kGauge, second,
                  unhealthy);
  }
  store_.record(Key{"CPUUtilization", {}}, Kind::kGauge, second, cpu_percent);
  store_.record(Key{"ResidentMemoryBytes", {}}, Kind::kGauge, second, resident_bytes);
}

}  // namespace ballast::control
