#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "metrics/histogram.h"

namespace ballast::metrics {

// One series' figures over an interval, as CloudWatch keeps them: every sample's sum,
// count, minimum and maximum; latency series also keep their histogram, for percentiles.
struct Aggregate {
  double sum = 0;
  double count = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  // Latency series only: bucket index -> count (sparse: a second holds few buckets).
  std::vector<std::pair<uint16_t, uint32_t>> buckets;

  void add_value(double v);
  void add(const Aggregate& other);
  bool empty() const { return count == 0; }
};

// CloudWatch statistics: Average, Sum, Minimum, Maximum, SampleCount, pNN (p99, p99.9).
struct Statistic {
  enum class Kind { kAverage, kSum, kMinimum, kMaximum, kSampleCount, kPercentile };
  Kind kind = Kind::kAverage;
  double percentile = 0;  // 0..100 for kPercentile
  // Parses "Average", "p99", "p99.9"...; nullopt when it is none of them.
  static std::optional<Statistic> parse(const std::string& text);
  std::string name() const;
};

// The value of `stat` over `a`, or nullopt when there is no sample. `scale` converts a
// latency series' microseconds (1e-6: seconds).
std::optional<double> evaluate(const Statistic& stat, const Aggregate& a, double scale = 1);

// In-memory time series: one datapoint per second for `seconds` (default an hour) and
// one per minute for `minutes` (default a day), in fixed rings allocated up front, so the
// memory is bounded by the number of series. Written once a second by the control thread.
class TimeSeriesStore {
 public:
  enum class Kind { kCount, kGauge, kLatency };
  struct SeriesKey {
    std::string metric;
    std::map<std::string, std::string> dimensions;
    bool operator<(const SeriesKey& o) const {
      return std::tie(metric, dimensions) < std::tie(o.metric, o.dimensions);
    }
  };

  explicit TimeSeriesStore(int64_t seconds = 3600, int64_t minutes = 1440);

  // Records the second starting at `unix_second`: a count (this second's increase), a
  // gauge (its value now) or a latency histogram (this second's requests, in µs). Records
  // for a second that already has one add to it.
  void record(const SeriesKey& key, Kind kind, int64_t unix_second, double value);
  void record_latency(const SeriesKey& key, int64_t unix_second, const HistogramSnapshot& delta);
  // Adds another store's figures for the second starting at `unix_second` (a peer's, on
  // the cluster's leader); a series takes its kind from its first record.
  void add(const SeriesKey& key, Kind kind, int64_t unix_second, const Aggregate& a);
  // The per-second figures of `key` for the seconds in [from, to) that have any, oldest
  // first (what a node sends its cluster's leader).
  std::vector<std::pair<int64_t, Aggregate>> seconds_of(const SeriesKey& key, int64_t from,
                                                        int64_t to) const;
  std::optional<Kind> kind_of(const SeriesKey& key) const;

  // The statistic for each period of `period_s` seconds from `start` (inclusive) to `end`
  // (exclusive), oldest first: (period start, value) for periods with data. Periods of a
  // minute or more that reach past the per-second ring are served from the minute ring.
  std::vector<std::pair<int64_t, double>> query(const SeriesKey& key, const Statistic& stat,
                                                int64_t start, int64_t end, int64_t period_s) const;
  // The statistic over the seconds [start, end), unaligned (a scaling policy's recent
  // window); nullopt without samples there or past the per-second ring.
  std::optional<double> over(const SeriesKey& key, const Statistic& stat, int64_t start,
                             int64_t end) const;
  std::vector<SeriesKey> keys() const;
  bool has(const SeriesKey& key) const { return series_.count(key) != 0; }
  // Bytes held, for the documentation's bound and its test.
  size_t memory_bytes() const;
  int64_t seconds_kept() const { return seconds_; }
  int64_t minutes_kept() const { return minutes_; }

 private:
  struct Slot {
    int64_t time = -1;  // the second (or minute start) this slot holds; -1: empty
    Aggregate data;
  };
  struct Series {
    Kind kind;
    std::vector<Slot> seconds;
    std::vector<Slot> minutes;
  };
  Series& series(const SeriesKey& key, Kind kind);
  void store(Series& s, int64_t unix_second, const Aggregate& a);
  // Everything recorded in [from, to) at this resolution, merged.
  Aggregate collect(const std::vector<Slot>& ring, int64_t step, int64_t from, int64_t to) const;

  int64_t seconds_;
  int64_t minutes_;
  std::map<SeriesKey, Series> series_;
};

}  // namespace ballast::metrics
