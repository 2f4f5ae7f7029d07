#include "metrics/time_series.h"

#include <algorithm>
#include <cstdlib>

namespace ballast::metrics {

void Aggregate::add_value(double v) {
  sum += v;
  count += 1;
  min = std::min(min, v);
  max = std::max(max, v);
}

void Aggregate::add(const Aggregate& other) {
  if (other.empty()) return;
  sum += other.sum;
  count += other.count;
  min = std::min(min, other.min);
  max = std::max(max, other.max);
  if (other.buckets.empty()) return;
  // Both sorted by bucket index: merge.
  std::vector<std::pair<uint16_t, uint32_t>> merged;
  merged.reserve(buckets.size() + other.buckets.size());
  size_t i = 0, j = 0;
  while (i < buckets.size() || j < other.buckets.size()) {
    if (j == other.buckets.size() ||
        (i < buckets.size() && buckets[i].first < other.buckets[j].first)) {
      merged.push_back(buckets[i++]);
    } else if (i == buckets.size() || other.buckets[j].first < buckets[i].first) {
      merged.push_back(other.buckets[j++]);
    } else {
      merged.emplace_back(buckets[i].first, buckets[i].second + other.buckets[j].second);
      ++i;
      ++j;
    }
  }
  buckets = std::move(merged);
}

std::optional<Statistic> Statistic::parse(const std::string& text) {
  Statistic s;
  if (text == "Average") {
    s.kind = Kind::kAverage;
  } else if (text == "Sum") {
    s.kind = Kind::kSum;
  } else if (text == "Minimum") {
    s.kind = Kind::kMinimum;
  } else if (text == "Maximum") {
    s.kind = Kind::kMaximum;
  } else if (text == "SampleCount") {
    s.kind = Kind::kSampleCount;
  } else if (text.size() > 1 && text[0] == 'p') {
    char* end = nullptr;
    double p = strtod(text.c_str() + 1, &end);
    if (*end != '\0' || !(p > 0) || p > 100) return std::nullopt;
    s.kind = Kind::kPercentile;
    s.percentile = p;
  } else {
    return std::nullopt;
  }
  return s;
}

std::string Statistic::name() const {
  switch (kind) {
    case Kind::kAverage:
      return "Average";
    case Kind::kSum:
      return "Sum";
    case Kind::kMinimum:
      return "Minimum";
    case Kind::kMaximum:
      return "Maximum";
    case Kind::kSampleCount:
      return "SampleCount";
    case Kind::kPercentile: {
      char buf[32];
      snprintf(buf, sizeof(buf), "p%g", percentile);
      return buf;
    }
  }
  return "?";
}

std::optional<double> evaluate(const Statistic& stat, const Aggregate& a, double scale) {
  if (a.empty()) return std::nullopt;
  switch (stat.kind) {
    case Statistic::Kind::kAverage:
      return a.sum / a.count * scale;
    case Statistic::Kind::kSum:
      return a.sum * scale;
    case Statistic::Kind::kMinimum:
      return a.min * scale;
    case Statistic::Kind::kMaximum:
      return a.max * scale;
    case Statistic::Kind::kSampleCount:
      return a.count;
    case Statistic::Kind::kPercentile: {
      if (a.buckets.empty()) {
        // A count or gauge series has no distribution: pNN of its per-second values
        // would need them all; CloudWatch answers those only for its own percentile
        // metrics, and so do we.
        return std::nullopt;
      }
      HistogramSnapshot h;
      for (const auto& [index, n] : a.buckets) {
        h.record(buckets::lower_bound(index), n);
      }
      // record() placed each count at its bucket's lower bound, in the same bucket, so
      // the quantile reports the same bucket middle as the original histogram would.
      return h.quantile(stat.percentile / 100.0) * scale;
    }
  }
  return std::nullopt;
}

TimeSeriesStore::TimeSeriesStore(int64_t seconds, int64_t minutes)
    : seconds_(std::max<int64_t>(seconds, 60)), minutes_(std::max<int64_t>(minutes, 1)) {}

TimeSeriesStore::Series& TimeSeriesStore::series(const SeriesKey& key, Kind kind) {
  auto it = series_.find(key);
  if (it == series_.end()) {
    Series s{kind, std::vector<Slot>(static_cast<size_t>(seconds_)),
             std::vector<Slot>(static_cast<size_t>(minutes_))};
    it = series_.emplace(key, std::move(s)).first;
  }
  return it->second;
}

void TimeSeriesStore::store(Series& s, int64_t unix_second, const Aggregate& a) {
  Slot& sec = s.seconds[static_cast<size_t>(unix_second % seconds_)];
  if (sec.time != unix_second) {
    sec.time = unix_second;
    sec.data = Aggregate{};
  }
  sec.data.add(a);
  int64_t minute = unix_second - unix_second % 60;
  Slot& min = s.minutes[static_cast<size_t>((minute / 60) % minutes_)];
  if (min.time != minute) {
    min.time = minute;
    min.data = Aggregate{};
  }
  min.data.add(a);
}

void TimeSeriesStore::record(const SeriesKey& key, Kind kind, int64_t unix_second, double value) {
  Aggregate a;
  a.add_value(value);
  store(series(key, kind), unix_second, a);
}

void TimeSeriesStore::record_latency(const SeriesKey& key, int64_t unix_second,
                                     const HistogramSnapshot& delta) {
  Aggregate a;
  if (delta.count() != 0) {
    a.sum = static_cast<double>(delta.sum());
    a.count = static_cast<double>(delta.count());
    a.min = delta.min();
    a.max = delta.max();
    for (int i = 0; i < buckets::kCount; ++i) {
      uint64_t n = delta.count_at(i);
      if (n != 0) a.buckets.emplace_back(static_cast<uint16_t>(i), static_cast<uint32_t>(n));
    }
  }
  store(series(key, Kind::kLatency), unix_second, a);
}

void TimeSeriesStore::add(const SeriesKey& key, Kind kind, int64_t unix_second,
                          const Aggregate& a) {
  store(series(key, kind), unix_second, a);
}

std::vector<std::pair<int64_t, Aggregate>> TimeSeriesStore::seconds_of(const SeriesKey& key,
                                                                       int64_t from,
                                                                       int64_t to) const {
  std::vector<std::pair<int64_t, Aggregate>> out;
  auto it = series_.find(key);
  if (it == series_.end()) return out;
  from = std::max({from, to - seconds_, int64_t{0}});  // none before the epoch, nor wrapped
  for (int64_t t = from; t < to; ++t) {
    const Slot& slot = it->second.seconds[static_cast<size_t>(t % seconds_)];
    if (slot.time == t) out.emplace_back(t, slot.data);
  }
  return out;
}

std::optional<TimeSeriesStore::Kind> TimeSeriesStore::kind_of(const SeriesKey& key) const {
  auto it = series_.find(key);
  if (it == series_.end()) return std::nullopt;
  return it->second.kind;
}

Aggregate TimeSeriesStore::collect(const std::vector<Slot>& ring, int64_t step, int64_t from,
                                   int64_t to) const {
  Aggregate out;
  int64_t first = from - ((from % step) + step) % step;
  for (int64_t t = first; t < to; t += step) {
    const Slot& slot = ring[static_cast<size_t>((t / step) % static_cast<int64_t>(ring.size()))];
    if (slot.time == t && t >= from - (step - 1)) out.add(slot.data);
  }
  return out;
}

std::vector<std::pair<int64_t, double>> TimeSeriesStore::query(const SeriesKey& key,
                                                               const Statistic& stat, int64_t start,
                                                               int64_t end,
                                                               int64_t period_s) const {
  std::vector<std::pair<int64_t, double>> out;
  auto it = series_.find(key);
  if (it == series_.end() || period_s <= 0 || end <= start) return out;
  const Series& s = it->second;
  int64_t newest = -1;
  for (const auto& slot : s.seconds) newest = std::max(newest, slot.time);
  // Per-second data reaches back seconds_ from the newest sample; older periods come
  // from the minute ring, when the period is whole minutes.
  bool minutes = period_s % 60 == 0 && start < newest - seconds_ + 1;
  double scale = s.kind == Kind::kLatency ? 1e-6 : 1;
  // At most as many periods as the rings could fill, whatever the caller asked.
  int64_t limit = minutes ? minutes_ * 60 : seconds_;
  if (end - start > limit) start = end - limit;
  start -= ((start % period_s) + period_s) % period_s;  // align to the period
  for (int64_t p = start; p < end; p += period_s) {
    Aggregate a =
        minutes ? collect(s.minutes, 60, p, p + period_s) : collect(s.seconds, 1, p, p + period_s);
    if (auto v = evaluate(stat, a, scale)) out.emplace_back(p, *v);
  }
  return out;
}

std::optional<double> TimeSeriesStore::over(const SeriesKey& key, const Statistic& stat,
                                            int64_t start, int64_t end) const {
  auto it = series_.find(key);
  if (it == series_.end() || end <= start) return std::nullopt;
  if (end - start > seconds_) start = end - seconds_;
  const Series& s = it->second;
  return evaluate(stat, collect(s.seconds, 1, start, end), s.kind == Kind::kLatency ? 1e-6 : 1);
}

std::vector<TimeSeriesStore::SeriesKey> TimeSeriesStore::keys() const {
  std::vector<SeriesKey> out;
  for (const auto& [k, s] : series_) out.push_back(k);
  return out;
}

size_t TimeSeriesStore::memory_bytes() const {
  size_t total = 0;
  for (const auto& [k, s] : series_) {
    total += sizeof(s) + k.metric.size() + 64 * k.dimensions.size();
    for (const auto& slot : s.seconds) total += sizeof(slot) + slot.data.buckets.capacity() * 8;
    for (const auto& slot : s.minutes) total += sizeof(slot) + slot.data.buckets.capacity() * 8;
  }
  return total;
}

}  // namespace ballast::metrics
