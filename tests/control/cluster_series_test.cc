#include "control/cluster_series.h"

#include <gtest/gtest.h>

namespace ballast::control {
namespace {

using Key = metrics::TimeSeriesStore::SeriesKey;
using Kind = metrics::TimeSeriesStore::Kind;

const Key kRequests{"RequestCount", {{"target_group", "app"}}};
const Key kLatency{"TargetResponseTime", {{"target_group", "app"}}};

metrics::HistogramSnapshot latencies(uint64_t us, uint64_t n) {
  metrics::HistogramSnapshot h;
  h.record(us, n);
  return h;
}

// Two nodes' seconds, sent as a peer sends them and added to the leader's own: the sums are
// the cluster's, and a percentile is that of every request, not an average of the nodes'.
TEST(ClusterSeriesTest, APeersSecondsAddUpExactlyPercentilesIncluded) {
  metrics::TimeSeriesStore leader, peer;
  for (int64_t s = 100; s < 110; ++s) {
    leader.record(kRequests, Kind::kCount, s, 10);
    peer.record(kRequests, Kind::kCount, s, 30);
    leader.record_latency(kLatency, s, latencies(1000, 99));  // 1 ms on the leader
    peer.record_latency(kLatency, s, latencies(500000, 1));   // one 500 ms request on the peer
  }
  std::string error;
  ASSERT_TRUE(add_series(series_json(peer, {kRequests, kLatency}, 100, 110), leader, &error))
      << error;
  auto sum = metrics::Statistic::parse("Sum");
  auto p99 = metrics::Statistic::parse("p99");
  auto p995 = metrics::Statistic::parse("p99.5");
  EXPECT_EQ(leader.query(kRequests, *sum, 100, 110, 10).at(0).second, 400);
  // 990 requests at 1 ms and 10 at 500 ms: p99 is still 1 ms, p99.5 is 500 ms.
  EXPECT_NEAR(leader.query(kLatency, *p99, 100, 110, 10).at(0).second, 0.001, 0.00002);
  EXPECT_NEAR(leader.query(kLatency, *p995, 100, 110, 10).at(0).second, 0.5, 0.01);
}

TEST(ClusterSeriesTest, OnlyTheAskedSecondsAndSeriesTravel) {
  metrics::TimeSeriesStore store;
  for (int64_t s = 100; s < 110; ++s) store.record(kRequests, Kind::kCount, s, 1);
  store.record(Key{"Other", {}}, Kind::kGauge, 105, 1);
  nlohmann::json j = series_json(store, {kRequests, Key{"Missing", {}}}, 105, 108);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["metric"], "RequestCount");
  EXPECT_EQ(j[0]["kind"], "count");
  ASSERT_EQ(j[0]["seconds"].size(), 3u);
  EXPECT_EQ(j[0]["seconds"][0][0], 105);
  EXPECT_EQ(j[0]["seconds"][2][0], 107);
}

TEST(ClusterSeriesTest, AlarmsAndPoliciesNameTheSeriesTheyRead) {
  config::Config c;
  config::AlarmConfig metric;
  metric.metric = "RequestCount";
  metric.dimensions = {{"target_group", "app"}};
  config::AlarmConfig composite;
  composite.rule = "ALARM(a)";
  c.alarms = {metric, composite};
  config::AutoScalingGroupConfig group;
  group.target_group = "app";
  config::ScalingPolicyConfig latency, custom, cpu;
  latency.metric.kind = config::PolicyMetric::Kind::kLatencyP99;
  custom.metric.kind = config::PolicyMetric::Kind::kCustom;
  custom.metric.metric = "QueueDepth";
  group.policies = {latency, custom, cpu};  // CPU is the instances': no node's series
  c.autoscaling_groups = {group};
  std::vector<std::string> names;
  for (const auto& k : shared_series(c)) names.push_back(k.metric);
  EXPECT_EQ(names, (std::vector<std::string>{"QueueDepth", "RequestCount", "TargetResponseTime"}));
}

TEST(ClusterSeriesTest, AMalformedAnswerSaysWhat) {
  metrics::TimeSeriesStore store;
  std::string error;
  EXPECT_FALSE(add_series(nlohmann::json::object(), store, &error));
  EXPECT_EQ(error, "\"series\" is not an array");
  EXPECT_FALSE(add_series(nlohmann::json::parse(R"([{"metric":"M","dimensions":{},"kind":"x",
      "seconds":[]}])"),
                          store, &error));
  EXPECT_NE(error.find("unknown kind \"x\""), std::string::npos) << error;
  EXPECT_FALSE(add_series(nlohmann::json::parse(R"([{"metric":"M","dimensions":{},"kind":"count",
      "seconds":[[1,2]]}])"),
                          store, &error));
  EXPECT_NE(error.find("malformed"), std::string::npos) << error;
}

}  // namespace
}  // namespace ballast::control
