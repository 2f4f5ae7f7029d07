// GET /metrics on the admin port: valid Prometheus text (checked by promtool), with the
// counts the traffic produced, circuit-breaker rejections and fail-open included.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// The value of the first sample line that starts with `prefix` ("name{labels}"), or -1.
double sample(const std::string& text, const std::string& prefix) {
  size_t at = text.find("\n" + prefix + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size() + 2));
}

TEST(MetricsTest, PrometheusTextPassesPromtoolAndCountsTheTraffic) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}, "", "", /*workers=*/2));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(http_get(lb.port(), "/"));
  ASSERT_TRUE(http_get(lb.port(), "/status/503"));
  AdminAnswer m = admin_call(lb.admin_port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  const std::string& t = m.body;
  EXPECT_EQ(sample(t, "ballast_listener_requests_total{listener=\"web\"}"), 51) << t;
  EXPECT_EQ(sample(t, "ballast_listener_responses_total{listener=\"web\",code=\"2xx\"}"), 50);
  EXPECT_EQ(sample(t, "ballast_listener_responses_total{listener=\"web\",code=\"5xx\"}"), 1);
  EXPECT_EQ(sample(t, "ballast_target_group_requests_total{target_group=\"app\"}"), 51);
  EXPECT_EQ(sample(t, "ballast_rule_requests_total{listener=\"web\",rule=\"0\"}"), 51);
  EXPECT_EQ(sample(t, "ballast_rule_responses_total{listener=\"web\",rule=\"0\",code=\"5xx\"}"), 1);
  // 51 requests on their own connections, and the test's readiness probe.
  EXPECT_EQ(sample(t, "ballast_listener_connections_total{listener=\"web\"}"), 52);
  EXPECT_EQ(sample(t, "ballast_listener_request_duration_seconds_count{listener=\"web\"}"), 51);
  EXPECT_EQ(sample(t, "ballast_target_group_healthy_targets{target_group=\"app\"}"), 2);
  double to_a = sample(t, "ballast_target_requests_total{target_group=\"app\",target=\"127.0.0.1:" +
                              std::to_string(a.port()) + "\"}");
  double to_b = sample(t, "ballast_target_requests_total{target_group=\"app\",target=\"127.0.0.1:" +
                              std::to_string(b.port()) + "\"}");
  EXPECT_EQ(to_a + to_b, 51);
  EXPECT_GT(sample(t, "ballast_process_resident_memory_bytes"), 1e6);
  EXPECT_GT(sample(t, "ballast_listener_received_bytes_total{listener=\"web\"}"), 0);

  std::string dir = make_temp_dir();
  write_file(dir + "/metrics.txt", t);
  Process promtool({"/bin/sh", "-c", "promtool check metrics < " + dir + "/metrics.txt"},
                   dir + "/promtool.log");
  EXPECT_EQ(promtool.wait_exit(30000), 0) << promtool.log();
}

TEST(MetricsTest, CircuitBreakerRejectionsAndFailOpenAreCounted) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()},
                          "    circuit_breaker: { max_requests: 1 }\n"
                          "    health_check: { path: /nope, interval: 200ms, timeout: 100ms, "
                          "unhealthy_threshold: 1 }\n"));
  ASSERT_TRUE(lb.ready());
  // /nope answers 404: the target turns unhealthy and the group fails open.
  for (int i = 0; i < 100; ++i) {
    auto g = admin_call(lb.admin_port(), "GET", "/api/v1/target-groups/app");
    if (g.body.find("\"failing_open\": true") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Four slow requests at once where one is allowed: three are rejected.
  std::vector<std::thread> clients;
  std::atomic<int> rejected{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      auto r = http_get(lb.port(), "/sleep?ms=300");
      if (r && r->status == 503) ++rejected;
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_GE(rejected.load(), 1);
  auto g = admin_call(lb.admin_port(), "GET", "/api/v1/target-groups/app");
  EXPECT_NE(g.body.find("\"failing_open\": true"), std::string::npos) << g.body;
  std::string t = admin_call(lb.admin_port(), "GET", "/metrics").body;
  EXPECT_GT(sample(t,
                   "ballast_target_group_circuit_breaker_rejections_total{target_group=\"app\","
                   "limit=\"max_requests\"}"),
            0)
      << t;
  EXPECT_GT(sample(t, "ballast_target_group_fail_open_requests_total{target_group=\"app\"}"), 0)
      << t;
  EXPECT_NE(g.body.find("\"fail_open_requests\""), std::string::npos) << g.body;
}

TEST(MetricsTest, TheTimeSeriesStoreAnswersCloudWatchStyleQueries) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}));
  ASSERT_TRUE(lb.ready());
  // Wait for the first per-second sample: counts from then on are in the series.
  bool listed = false;
  for (int i = 0; i < 100 && !listed; ++i) {
    listed = admin_call(lb.admin_port(), "GET", "/api/v1/metrics").body.find("RequestCount") !=
             std::string::npos;
    if (!listed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(listed);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(http_get(lb.port(), "/sleep?ms=5"));
  // The seconds those requests fell in are sampled when they end.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  AdminAnswer q = admin_call(lb.admin_port(), "GET",
                             "/api/v1/metrics/query?metric=RequestCount&target_group=app"
                             "&stat=Sum&period=3600");
  ASSERT_EQ(q.status, 200) << q.body;
  auto j = nlohmann::json::parse(q.body);
  const auto& r = j["MetricDataResults"][0];
  EXPECT_EQ(r["StatusCode"], "Complete");
  ASSERT_EQ(r["Values"].size(), 1u) << q.body;
  EXPECT_EQ(r["Values"][0], 30) << q.body
                                << admin_call(lb.admin_port(), "GET",
                                              "/api/v1/metrics/query?metric=RequestCount&"
                                              "target_group=app&stat=Sum&period=1")
                                       .body;
  EXPECT_EQ(r["Timestamps"][0].get<std::string>().size(), 20u) << "ISO 8601, UTC";

  q = admin_call(lb.admin_port(), "GET",
                 "/api/v1/metrics/query?metric=TargetResponseTime&target_group=app&stat=p99"
                 "&period=3600");
  ASSERT_EQ(q.status, 200) << q.body;
  double p99 = nlohmann::json::parse(q.body)["MetricDataResults"][0]["Values"][0];
  EXPECT_GT(p99, 0.004) << "seconds: each request slept 5 ms";
  EXPECT_LT(p99, 1.0);

  EXPECT_EQ(admin_call(lb.admin_port(), "GET",
                       "/api/v1/metrics/query?metric=RequestCount"
                       "&target_group=app&stat=Median")
                .status,
            400);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/metrics/query?metric=Nope").status, 404);
}

}  // namespace
}  // namespace ballast::test
