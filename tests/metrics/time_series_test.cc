#include "metrics/time_series.h"

#include <gtest/gtest.h>

namespace ballast::metrics {
namespace {

using Key = TimeSeriesStore::SeriesKey;
using Kind = TimeSeriesStore::Kind;

Statistic stat(const std::string& s) {
  return *Statistic::parse(s);
}

TEST(StatisticTest, ParsesCloudWatchNames) {
  EXPECT_EQ(stat("Average").kind, Statistic::Kind::kAverage);
  EXPECT_EQ(stat("SampleCount").kind, Statistic::Kind::kSampleCount);
  EXPECT_EQ(stat("p99.9").percentile, 99.9);
  EXPECT_EQ(stat("p50").name(), "p50");
  EXPECT_FALSE(Statistic::parse("avg"));
  EXPECT_FALSE(Statistic::parse("p0"));
  EXPECT_FALSE(Statistic::parse("p101"));
}

TEST(TimeSeriesStoreTest, StatisticsOverPeriods) {
  TimeSeriesStore store;
  Key key{"RequestCount", {{"target_group", "app"}}};
  // 120 seconds from t=6000: 1, 2, ..., 120 requests per second.
  for (int i = 0; i < 120; ++i) store.record(key, Kind::kCount, 6000 + i, i + 1);
  auto sums = store.query(key, stat("Sum"), 6000, 6120, 60);
  ASSERT_EQ(sums.size(), 2u);
  EXPECT_EQ(sums[0].first, 6000);
  EXPECT_EQ(sums[0].second, 60 * 61 / 2);
  EXPECT_EQ(sums[1].second, (120 * 121 - 60 * 61) / 2);
  EXPECT_EQ(store.query(key, stat("Maximum"), 6000, 6060, 60)[0].second, 60);
  EXPECT_EQ(store.query(key, stat("Minimum"), 6000, 6060, 60)[0].second, 1);
  EXPECT_EQ(store.query(key, stat("SampleCount"), 6000, 6060, 60)[0].second, 60);
  EXPECT_DOUBLE_EQ(store.query(key, stat("Average"), 6000, 6060, 60)[0].second, 30.5);
  auto per_second = store.query(key, stat("Sum"), 6010, 6013, 1);
  ASSERT_EQ(per_second.size(), 3u);
  EXPECT_EQ(per_second[2].second, 13);
  EXPECT_TRUE(store.query(key, stat("Sum"), 7000, 7060, 60).empty()) << "no data, no point";
}

TEST(TimeSeriesStoreTest, LatencyPercentilesMergeAcrossSeconds) {
  TimeSeriesStore store;
  Key key{"TargetResponseTime", {{"target_group", "app"}}};
  for (int s = 0; s < 10; ++s) {
    HistogramSnapshot h;
    for (int i = 1; i <= 100; ++i) h.record(static_cast<uint64_t>(1000 * i + s));  // 1..100 ms
    store.record_latency(key, 9000 + s, h);
  }
  auto p99 = store.query(key, stat("p99"), 9000, 9010, 10);
  ASSERT_EQ(p99.size(), 1u);
  EXPECT_NEAR(p99[0].second, 0.099, 0.099 * 0.01) << "seconds, within 1%";
  auto avg = store.query(key, stat("Average"), 9000, 9010, 10);
  EXPECT_NEAR(avg[0].second, 0.0505, 0.0005);
  EXPECT_EQ(store.query(key, stat("SampleCount"), 9000, 9010, 10)[0].second, 1000);
}

TEST(TimeSeriesStoreTest, OlderDataComesFromTheMinuteRing) {
  TimeSeriesStore store(/*seconds=*/120, /*minutes=*/60);
  Key key{"RequestCount", {}};
  for (int i = 0; i < 600; ++i) store.record(key, Kind::kCount, 60000 + i, 1);
  // The per-second ring keeps only the last 120 s; minutes keep all ten.
  auto minutes = store.query(key, stat("Sum"), 60000, 60600, 60);
  ASSERT_EQ(minutes.size(), 10u);
  for (const auto& [t, v] : minutes) EXPECT_EQ(v, 60) << t;
  auto seconds = store.query(key, stat("Sum"), 60000, 60600, 1);
  EXPECT_EQ(seconds.size(), 120u) << "only what the per-second ring still holds";
}

TEST(TimeSeriesStoreTest, MemoryIsBoundedByTheSeriesCount) {
  TimeSeriesStore store;  // 1 h of seconds, 24 h of minutes
  for (int s = 0; s < 20; ++s) {
    Key key{"RequestCount", {{"target_group", "g" + std::to_string(s)}}};
    for (int t = 0; t < 5000; ++t) store.record(key, Kind::kCount, 100000 + t, t);
  }
  // docs/metrics.md: about 330 KB per count or gauge series with the default retention.
  EXPECT_LE(store.memory_bytes(), 20u * 330u * 1024u);
  EXPECT_GE(store.memory_bytes(), 20u * 300u * 1024u) << "the rings are allocated up front";
}

}  // namespace
}  // namespace ballast::metrics

namespace ballast::metrics {
namespace {

// What a node sends its cluster's leader: the seconds asked for that hold samples, within
// the ring and never before the epoch (a node that has sampled nothing is asked from 0).
TEST(TimeSeriesStoreTest, SecondsOfAreTheRingsOwnAndAddMergesThem) {
  TimeSeriesStore store(60, 1);
  TimeSeriesStore::SeriesKey key{"RequestCount", {}};
  for (int64_t s = 0; s < 100; ++s) store.record(key, TimeSeriesStore::Kind::kCount, s, 2);
  EXPECT_EQ(store.seconds_of(key, 0, 100).size(), 60u);  // the ring keeps a minute
  EXPECT_EQ(store.seconds_of(key, 95, 100).front().first, 95);
  EXPECT_TRUE(store.seconds_of(key, -100, 0).empty());
  EXPECT_TRUE(store.seconds_of({"Unknown", {}}, 0, 100).empty());
  EXPECT_FALSE(store.kind_of({"Unknown", {}}));
  Aggregate peer;
  peer.add_value(5);
  store.add(key, TimeSeriesStore::Kind::kCount, 99, peer);
  auto last = store.seconds_of(key, 99, 100);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].second.sum, 7);
  EXPECT_EQ(last[0].second.count, 2);
}

}  // namespace
}  // namespace ballast::metrics
