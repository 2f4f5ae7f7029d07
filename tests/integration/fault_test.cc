// Fault injection for users' failure drills (Envoy's fault filter): a rule's delays, aborts
// with a status and reset connections, for a share of its requests, set in the file and
// changed through the admin API and `ballast ctl fault` until the next reload.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

std::string config(uint16_t target, const std::string& fault) {
  return "workers: 2\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules:\n"
         "      - forward: { target_group: app }\n        fault: " +
         fault + "\ntarget_groups:\n  - name: app\n    targets: [ { address: " + loopback(target) +
         " } ]\n";
}

// Statuses of `n` requests, one connection each.
std::map<int, int> statuses(uint16_t port, int n) {
  std::map<int, int> out;
  for (int i = 0; i < n; ++i) {
    Client c(port);
    auto r = c.get("/");
    ++out[r ? r->status : 0];
  }
  return out;
}

TEST(FaultTest, AnAbortAnswersWithItsStatusAndNothingReachesTheTarget) {
  RecordingServer target;
  Ballast lb(config(target.port(), "{ abort: { status: 503, percent: 100 } }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  for (int i = 0; i < 5; ++i) {
    auto r = c.get("/");  // the connection stays open after each
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "503 fault injected (abort)\n");
  }
  EXPECT_EQ(target.requests(), 0u);
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_rule_faults_total{listener=\"web\",rule=\"0\",kind=\"abort\"}") ==
           5;
  })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
}

TEST(FaultTest, ADelayHoldsTheRequestBeforeItGoesToItsTarget) {
  RecordingServer target;
  Ballast lb(config(target.port(), "{ delay: { duration: 300ms, percent: 100 } }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  auto start = std::chrono::steady_clock::now();
  auto r = c.get("/");
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  // A lower bound only: an injected delay cannot end early, however busy the machine.
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_EQ(target.requests(), 1u);
}

TEST(FaultTest, AResetClosesTheConnectionWithoutAnAnswer) {
  RecordingServer target;
  Ballast lb(config(target.port(), "{ reset: { percent: 100 } }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  EXPECT_EQ(c.read_until_close(&closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(target.requests(), 0u);
}

TEST(FaultTest, AShareOfRequestsSetThroughTheApiUntilTheNextReload) {
  RecordingServer target;
  Ballast lb(config(target.port(), "{ id: drill, abort: { status: 502, percent: 0 } }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_EQ(statuses(lb.port(), 50)[200], 50) << "armed, but at 0%";
  auto set =
      admin_call(lb.admin_port(), "PUT", "/api/v1/faults/drill", R"({"abort": {"percent": 50}})");
  ASSERT_EQ(set.status, 200) << set.body;
  std::map<int, int> half = statuses(lb.port(), 200);
  // Binomial(200, 0.5): outside 60..140 is more than five standard deviations away.
  EXPECT_GT(half[502], 60);
  EXPECT_LT(half[502], 140);
  EXPECT_EQ(half[502] + half[200], 200);
  // Bad changes say why and change nothing.
  auto unknown = admin_call(lb.admin_port(), "PUT", "/api/v1/faults/nope", "{}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("no rule has a fault with id \\\"nope\\\""), std::string::npos)
      << unknown.body;
  auto bad = admin_call(lb.admin_port(), "PUT", "/api/v1/faults/drill",
                        R"({"abort": {"percent": 150}, "reset": {"percent": 100}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("abort.percent must be a number from 0 to 100"), std::string::npos);
  auto listed = nlohmann::json::parse(admin_call(lb.admin_port(), "GET", "/api/v1/faults").body);
  ASSERT_EQ(listed["faults"].size(), 1u);
  EXPECT_EQ(listed["faults"][0]["id"], "drill");
  EXPECT_EQ(listed["faults"][0]["abort"]["percent"], 50.0);
  EXPECT_EQ(listed["faults"][0]["reset"]["percent"], 0.0) << "the bad change changed nothing";
  // ballast ctl turns it off.
  std::string dir = make_temp_dir();
  Process off(
      {BALLAST_BINARY, "ctl", "--admin", loopback(lb.admin_port()), "fault", "drill", "off"},
      dir + "/off.log");
  EXPECT_EQ(off.wait_exit(10000), 0) << off.log();
  EXPECT_EQ(statuses(lb.port(), 30)[200], 30);
  // A reload sets the file's values again.
  ASSERT_EQ(
      admin_call(lb.admin_port(), "PUT", "/api/v1/faults/drill", R"({"abort": {"percent": 100}})")
          .status,
      200);
  EXPECT_EQ(statuses(lb.port(), 5)[502], 5);
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
  EXPECT_EQ(statuses(lb.port(), 5)[200], 5);
}

}  // namespace
}  // namespace ballast::test
