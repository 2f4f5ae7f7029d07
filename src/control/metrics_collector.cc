#include "control/metrics_collector.h"

#include "metrics/totals.h"
#include "proxy/cache_exchange.h"

namespace ballast::control {

namespace {
using Kind = metrics::TimeSeriesStore::Kind;
using Key = metrics::TimeSeriesStore::SeriesKey;

const char* kClassNames[] = {"", "1XX", "2XX", "3XX", "4XX", "5XX"};
}  // namespace

void MetricsCollector::count(const Key& key, int64_t second, double cumulative) {
  store_.record(key, Kind::kCount, second, counts_.delta(key, cumulative));
}

void MetricsCollector::latency(const Key& key, int64_t second,
                               const metrics::HistogramSnapshot& cumulative) {
  auto it = last_histograms_.find(key);
  metrics::HistogramSnapshot delta =
      it == last_histograms_.end() ? metrics::HistogramSnapshot{} : cumulative.minus(it->second);
  last_histograms_[key] = cumulative;
  store_.record_latency(key, second, delta);
}

void MetricsCollector::sample(int64_t second, const metrics::Totals& totals,
                              const TargetRegistry& targets, double cpu_percent,
                              double resident_bytes) {
  for (const auto& [name, l] : totals.listeners) {
    auto key = [&, &listener = name](const std::string& metric) {
      return Key{metric, {{"listener", listener}}};
    };
    count(key("RequestCount"), second, static_cast<double>(l.requests));
    count(key("NewConnectionCount"), second, static_cast<double>(l.connections));
    count(key("ProcessedBytes"), second, static_cast<double>(l.bytes_in + l.bytes_out));
    for (int c = 2; c <= 5; ++c) {
      count(key(std::string("HTTPCode_") + kClassNames[c] + "_Count"), second,
            static_cast<double>(l.responses.by_class[c]));
    }
    store_.record(key("ActiveConnectionCount"), Kind::kGauge, second,
                  static_cast<double>(l.active_connections));
    latency(key("RequestTime"), second, l.total_time);
  }
  for (const auto& [name, g] : totals.groups) {
    auto key = [&, &group = name](const std::string& metric) {
      return Key{metric, {{"target_group", group}}};
    };
    count(key("RequestCount"), second, static_cast<double>(g.requests));
    count(key("RetryCount"), second, static_cast<double>(g.retries));
    count(key("EjectionCount"), second, static_cast<double>(g.ejections));
    count(key("NoTargetCount"), second, static_cast<double>(g.no_target));
    count(key("FailOpenRequestCount"), second, static_cast<double>(g.fail_open_picks));
    count(key("CircuitBreakerRejectedCount"), second,
          static_cast<double>(g.breaker_rejections[0] + g.breaker_rejections[1] +
                              g.breaker_rejections[2]));
    for (int c = 2; c <= 5; ++c) {
      count(key(std::string("HTTPCode_Target_") + kClassNames[c] + "_Count"), second,
            static_cast<double>(g.responses.by_class[c]));
    }
    latency(key("TargetResponseTime"), second, g.response_time);
  }
  for (const auto& g : targets.groups()) {
    double healthy = 0, unhealthy = 0;
    for (const auto& t : g.targets) {
      (g.state_of(t) == health::TargetHealth::kHealthy ? healthy : unhealthy) += 1;
    }
    store_.record(Key{"HealthyHostCount", {{"target_group", g.name}}}, Kind::kGauge, second,
                  healthy);
    store_.record(Key{"UnHealthyHostCount", {{"target_group", g.name}}}, Kind::kGauge, second,
                  unhealthy);
  }
  store_.record(Key{"CPUUtilization", {}}, Kind::kGauge, second, cpu_percent);
  store_.record(Key{"ResidentMemoryBytes", {}}, Kind::kGauge, second, resident_bytes);
}

void MetricsCollector::sample_cache(int64_t second, const metrics::Totals& totals,
                                    const config::Config& config) {
  using Outcome = proxy::CacheExchange::Outcome;
  auto outcome = [](const metrics::RuleTotals& r, Outcome o) {
    return static_cast<double>(r.cache_outcomes[static_cast<size_t>(o)]);
  };
  for (const auto& l : config.listeners) {
    auto it = totals.listeners.find(l.name);
    for (size_t i = 0; i < l.rules.size() && i < metrics::ListenerStats::kMaxRules; ++i) {
      if (!l.rules[i].cache.enabled) continue;
      auto key = [&](const std::string& metric) {
        return Key{metric, {{"listener", l.name}, {"rule", std::to_string(i)}}};
      };
      metrics::RuleTotals r =
          it == totals.listeners.end() ? metrics::RuleTotals{} : it->second.rules[i];
      count(key("CacheHitCount"), second,
            outcome(r, Outcome::kHit) + outcome(r, Outcome::kStale) +
                outcome(r, Outcome::kRevalidated));
      count(key("CacheMissCount"), second, outcome(r, Outcome::kMiss));
      count(key("CacheBytesServed"), second, static_cast<double>(r.cache_bytes_served));
      count(key("CacheEvictionCount"), second,
            static_cast<double>(l.rules[i].cache.counts->evicted.load()));
    }
  }
}

}  // namespace ballast::control
