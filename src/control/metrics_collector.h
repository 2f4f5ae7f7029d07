#pragma once
#include <map>
#include <string>

#include "config/config.h"
#include "control/target_registry.h"
#include "metrics/count_deltas.h"
#include "metrics/metrics_registry.h"
#include "metrics/time_series.h"
#include "metrics/totals.h"

namespace ballast::control {

// Once a second, turns the workers' cumulative counts into the time-series store's
// datapoints: each count's increase over the second, each gauge's value, each latency
// histogram's new samples. Metric names follow ALB's CloudWatch metrics where one exists.
class MetricsCollector {
 public:
  explicit MetricsCollector(metrics::TimeSeriesStore& store) : store_(store) {}

  void sample(int64_t unix_second, const metrics::Totals& totals, const TargetRegistry& targets,
              double cpu_percent, double resident_bytes);
  // The response cache: per caching rule of `config`, hits (fresh, stale and revalidated),
  // misses, bytes served from the store and evictions of its objects.
  void sample_cache(int64_t unix_second, const metrics::Totals& totals,
                    const config::Config& config);

 private:
  using Key = metrics::TimeSeriesStore::SeriesKey;
  void count(const Key& key, int64_t second, double cumulative);
  void latency(const Key& key, int64_t second, const metrics::HistogramSnapshot& cumulative);

  metrics::TimeSeriesStore& store_;
  metrics::CountDeltas<Key> counts_;
  std::map<Key, metrics::HistogramSnapshot> last_histograms_;
};

}  // namespace ballast::control
