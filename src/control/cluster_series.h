#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "config/config.h"
#include "metrics/time_series.h"

namespace ballast::control {

// The series a cluster's alarms read, as each node sends its own to the leader: per second,
// each series' sum, count, minimum, maximum and (latency series) histogram buckets. The
// leader adds them to its own exactly, percentiles included, as CloudWatch merges what each
// node of an ALB reports. Counters stay on their nodes; only these figures travel.
using SeriesKeys = std::set<metrics::TimeSeriesStore::SeriesKey>;

// The series whose figures the leader needs from every node: those of the configuration's
// metric alarms, and those target tracking policies read (latency, custom metrics).
SeriesKeys shared_series(const config::Config& config);

// [{"metric", "dimensions", "kind", "seconds": [[second, sum, count, min, max, [[bucket, n]...]]]}]
// for the seconds in [from, to) that have samples.
nlohmann::json series_json(const metrics::TimeSeriesStore& store, const SeriesKeys& keys,
                           int64_t from, int64_t to);

// Adds series_json's output into `into`; false, with why in `error`, when it is not that
// (what was read before the fault stays added).
bool add_series(const nlohmann::json& series, metrics::TimeSeriesStore& into, std::string* error);

// Copies `store`'s seconds in [from, to) of `keys` into `into`.
void copy_series(const metrics::TimeSeriesStore& store, const SeriesKeys& keys, int64_t from,
                 int64_t to, metrics::TimeSeriesStore& into);

}  // namespace ballast::control
