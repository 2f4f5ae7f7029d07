// Alarms end to end: a metric alarm on the traffic goes to ALARM and back to OK, a
// composite follows it, the webhook receives CloudWatch-shaped notifications, and the
// API shows states and history.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

std::string state(uint16_t admin_port, const std::string& alarm) {
  json j =
      json::parse(admin_call(admin_port, "GET", "/api/v1/alarms/" + alarm).body, nullptr, false);
  return j.is_object() && j.contains("state") ? j["state"].get<std::string>() : "?";
}

TEST(AlarmsTest, AMetricAlarmFiresNotifiesAndRecovers) {
  DemoBackend a("a");
  RecordingServer hook;  // answers 200 "ok" to every request
  std::string alarms =
      "alarms:\n"
      "  - name: busy\n"
      "    description: more than 5 requests in a second\n"
      "    metric: RequestCount\n"
      "    dimensions: { target_group: app }\n"
      "    statistic: Sum\n"
      "    period: 1s\n"
      "    evaluation_periods: 1\n"
      "    threshold: 5\n"
      "    comparison: GreaterThanThreshold\n"
      "    actions:\n"
      "      alarm: [{ log: true }, { webhook: \"http://127.0.0.1:" +
      std::to_string(hook.port()) +
      "/hook\" }]\n"
      "      ok: [{ log: true }]\n"
      "  - name: any\n"
      "    rule: ALARM(busy) OR ALARM(\"busy\")\n";
  Ballast lb(proxy_config({a.port()}) + alarms);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Quiet seconds are datapoints of 0: OK before any traffic.
  ASSERT_TRUE(within(10, [&] { return state(lb.admin_port(), "busy") == "OK"; }))
      << admin_call(lb.admin_port(), "GET", "/api/v1/alarms").body;
  {
    LoadLoop load(lb.port(), 2);
    ASSERT_TRUE(within(10, [&] { return state(lb.admin_port(), "busy") == "ALARM"; }))
        << admin_call(lb.admin_port(), "GET", "/api/v1/alarms").body;
  }
  EXPECT_TRUE(within(10, [&] { return state(lb.admin_port(), "any") == "ALARM"; }));
  ASSERT_TRUE(within(10, [&] { return hook.requests() >= 1; })) << lb.process().log();
  std::string received = hook.received();
  EXPECT_NE(received.find("POST /hook HTTP/1.1"), std::string::npos) << received;
  EXPECT_NE(received.find("\"AlarmName\":\"busy\""), std::string::npos) << received;
  EXPECT_NE(received.find("\"NewStateValue\":\"ALARM\""), std::string::npos) << received;
  EXPECT_NE(received.find("\"MetricName\":\"RequestCount\""), std::string::npos) << received;

  ASSERT_TRUE(within(10, [&] { return state(lb.admin_port(), "busy") == "OK"; }));
  json busy = json::parse(admin_call(lb.admin_port(), "GET", "/api/v1/alarms/busy").body);
  ASSERT_GE(busy["history"].size(), 3u) << busy.dump();
  EXPECT_EQ(busy["history"][0]["to"], "OK");  // newest first
  EXPECT_EQ(busy["history"][1]["to"], "ALARM");
  EXPECT_NE(
      busy["history"][1]["reason"].get<std::string>().find("were greater than the threshold (5)"),
      std::string::npos)
      << busy.dump();
  EXPECT_NE(lb.process().log().find("alarm \"busy\": OK -> ALARM: Threshold Crossed"),
            std::string::npos)
      << lb.process().log();

  std::string dir = make_temp_dir();
  Process ctl(
      {BALLAST_BINARY, "ctl", "--admin", "127.0.0.1:" + std::to_string(lb.admin_port()), "alarms"},
      dir + "/ctl.log");
  EXPECT_EQ(ctl.wait_exit(20000), 0);
  EXPECT_NE(ctl.log().find("busy"), std::string::npos) << ctl.log();
  EXPECT_NE(ctl.log().find("composite"), std::string::npos) << ctl.log();
  EXPECT_NE(ctl.log().find(" node "), std::string::npos) << ctl.log();  // alone: its own figures
}

TEST(AlarmsTest, AWebhookThatFailsIsRetriedThenGivenUp) {
  DemoBackend a("a");
  uint16_t closed = free_port();
  Ballast lb(proxy_config({a.port()}) +
             "alarms:\n  - name: always\n    metric: RequestCount\n"
             "    dimensions: { listener: web }\n    period: 1s\n    threshold: -1\n"
             "    statistic: Sum\n    actions:\n      alarm: [{ webhook: \"http://127.0.0.1:" +
             std::to_string(closed) + "/x\" }]\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_TRUE(within(20, [&] {
    return lb.process().log().find("giving up after 3 attempts") != std::string::npos;
  })) << lb.process().log();
  EXPECT_NE(lb.process().log().find("retrying in 1000ms"), std::string::npos);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/status").status, 200)
      << "the control thread never waited for the webhook";
}

}  // namespace
}  // namespace ballast::test
