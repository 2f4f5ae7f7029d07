// The admin API and `ballast ctl`: listing groups and targets with their state,
// registering, deregistering, weights, drain, the bearer token, and clear errors.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/process.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

json get_json(uint16_t admin_port, const std::string& path) {
  AdminAnswer a = admin_call(admin_port, "GET", path);
  EXPECT_EQ(a.status, 200) << a.body;
  return json::parse(a.body, nullptr, false);
}

TEST(AdminApiTest, ListsGroupsTargetsAndListeners) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  json groups = get_json(lb.admin_port(), "/api/v1/target-groups");
  ASSERT_EQ(groups["target_groups"].size(), 1u) << groups.dump();
  const json& g = groups["target_groups"][0];
  EXPECT_EQ(g["name"], "app");
  EXPECT_EQ(g["algorithm"], "least_outstanding_requests");
  EXPECT_EQ(g["healthy_count"], 1);
  EXPECT_EQ(g["failing_open"], false);
  ASSERT_EQ(g["targets"].size(), 1u);
  EXPECT_EQ(g["targets"][0]["address"], loopback(a.port()));
  EXPECT_EQ(g["targets"][0]["state"], "healthy");
  EXPECT_EQ(g["targets"][0]["weight"], 1);
  EXPECT_EQ(g["targets"][0]["source"], "config");

  json listeners = get_json(lb.admin_port(), "/api/v1/listeners");
  EXPECT_EQ(listeners["listeners"][0]["bind"], loopback(lb.port()));
  EXPECT_EQ(listeners["listeners"][0]["rules"][0]["forward"][0]["target_group"], "app");
  json status = get_json(lb.admin_port(), "/api/v1/status");
  EXPECT_EQ(status["config_generation"], 1);
  EXPECT_EQ(status["last_reload"]["ok"], true);
}

TEST(AdminApiTest, ReportsUnhealthyTargetsWithTheirReason) {
  DemoBackend a("a");
  uint16_t closed = free_port();
  Ballast lb(proxy_config({a.port(), closed},
                          "    health_check: { interval: 200ms, timeout: 150ms, "
                          "healthy_threshold: 2, unhealthy_threshold: 2 }\n"));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(within(
      10, [&] { return target_state(lb.admin_port(), "app", loopback(closed)) == "unhealthy"; }));
  json g = get_json(lb.admin_port(), "/api/v1/target-groups/app");
  for (const auto& t : g["targets"]) {
    if (t["address"] != loopback(closed)) continue;
    EXPECT_EQ(t["reason"], "connect refused") << t.dump();
    EXPECT_NE(t["detail"].get<std::string>().find("refused"), std::string::npos) << t.dump();
  }
  EXPECT_TRUE(within(
      10, [&] { return target_state(lb.admin_port(), "app", loopback(a.port())) == "healthy"; }));
}

TEST(AdminApiTest, RegisterAndDeregisterMoveTraffic) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready());
  AdminAnswer r = admin_call(lb.admin_port(), "POST", "/api/v1/target-groups/app/targets",
                             R"({"address": ")" + loopback(b.port()) + R"(", "weight": 2})");
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_TRUE(within(10, [&] { return instances_seen(lb.port(), 9)["b"] == 6; }))
      << "b (weight 2) takes two thirds";
  EXPECT_EQ(target_state(lb.admin_port(), "app", loopback(b.port())), "healthy");

  r = admin_call(lb.admin_port(), "DELETE",
                 "/api/v1/target-groups/app/targets/" + loopback(a.port()));
  ASSERT_EQ(r.status, 202) << r.body;
  // Idle, it drains at once and is removed.
  ASSERT_TRUE(within(
      10, [&] { return target_state(lb.admin_port(), "app", loopback(a.port())) == "absent"; }));
  EXPECT_EQ(instances_seen(lb.port(), 10)["b"], 10);
  EXPECT_NE(lb.process().log().find("deregistered app/" + loopback(a.port())), std::string::npos);
}

TEST(AdminApiTest, WeightAndDrainThroughTheApi) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready());
  std::string target = "/api/v1/target-groups/app/targets/" + loopback(b.port());
  ASSERT_EQ(admin_call(lb.admin_port(), "PATCH", target, R"({"weight": 3})").status, 200);
  ASSERT_TRUE(within(10, [&] { return instances_seen(lb.port(), 8)["b"] == 6; }));
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", target + "/drain").status, 200);
  EXPECT_EQ(target_state(lb.admin_port(), "app", loopback(b.port())), "draining");
  ASSERT_TRUE(within(10, [&] { return instances_seen(lb.port(), 8)["a"] == 8; }));
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", target + "/undrain").status, 200);
  ASSERT_TRUE(within(10, [&] { return instances_seen(lb.port(), 8)["b"] == 6; }));
}

TEST(AdminApiTest, BadRequestsGetClearErrors) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}));
  ASSERT_TRUE(lb.ready());
  uint16_t p = lb.admin_port();
  AdminAnswer r = admin_call(p, "GET", "/api/v1/target-groups/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("no target group named \\\"nope\\\""), std::string::npos) << r.body;
  r = admin_call(p, "POST", "/api/v1/target-groups/app/targets", R"({"address": "nohost"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("nohost"), std::string::npos) << r.body;
  r = admin_call(p, "POST", "/api/v1/target-groups/app/targets", "{not json");
  EXPECT_EQ(r.status, 400) << r.body;
  r = admin_call(p, "POST", "/api/v1/target-groups/app/targets",
                 R"({"address": ")" + loopback(a.port()) + R"("})");
  EXPECT_EQ(r.status, 409) << "already registered: " << r.body;
  r = admin_call(p, "DELETE", "/api/v1/target-groups/app/targets/127.0.0.1:1");
  EXPECT_EQ(r.status, 404) << r.body;
  r = admin_call(p, "PUT", "/api/v1/target-groups");
  EXPECT_EQ(r.status, 405) << r.body;
  r = admin_call(p, "GET", "/nothing");
  EXPECT_EQ(r.status, 404) << r.body;
  // A hostile request gets a 4xx and the connection closes; the API keeps serving.
  Client c(p);
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
  auto bad = c.read_response();
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(admin_call(p, "GET", "/api/v1/status").status, 200);
}

TEST(AdminApiTest, ABearerTokenIsRequiredWhenConfigured) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}) +
             "admin:\n  bind: 127.0.0.1:${ADMIN_PORT}\n  token: s3cret-token\n");
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/status").status, 401);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/status", "",
                       "Authorization: Bearer wrong-token!\r\n")
                .status,
            401);
  EXPECT_EQ(admin_call(lb.admin_port(), "GET", "/api/v1/status", "",
                       "Authorization: Bearer s3cret-token\r\n")
                .status,
            200);
}

TEST(CtlTest, ListsRegistersAndDrainsFromTheCommandLine) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port()}) +
             "admin:\n  bind: 127.0.0.1:${ADMIN_PORT}\n  token: t0ken\n");
  ASSERT_TRUE(lb.ready());
  std::string dir = make_temp_dir();
  auto ctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> argv = {BALLAST_BINARY, "ctl",  "--admin", loopback(lb.admin_port()),
                                     "--token",      "t0ken"};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, dir + "/ctl.log");
    *code = p.wait_exit(20000);
    return p.log();
  };
  int code = -1;
  std::string out = ctl({"register", "app", loopback(b.port()), "2"}, &code);
  EXPECT_EQ(code, 0) << out;
  out = ctl({"targets", "app"}, &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(loopback(b.port())), std::string::npos) << out;
  EXPECT_NE(out.find("healthy"), std::string::npos) << out;
  out = ctl({"drain", "app", loopback(a.port())}, &code);
  EXPECT_EQ(code, 0) << out;
  out = ctl({"groups"}, &code);
  EXPECT_NE(out.find("app"), std::string::npos) << out;
  out = ctl({"deregister", "app", "127.0.0.1:1"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("404: target group \"app\" has no target 127.0.0.1:1"), std::string::npos)
      << out;
  out = ctl({"frobnicate"}, &code);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("unknown action \"frobnicate\""), std::string::npos) << out;
}

TEST(CtlTest, TopAndMetricsPrintTables) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}));
  ASSERT_TRUE(lb.ready());
  {
    LoadLoop load(lb.port(), 1);
    ASSERT_TRUE(load.wait_for_more(100));
    std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  }
  std::string dir = make_temp_dir();
  auto ctl = [&](std::vector<std::string> args, int* code) {
    std::vector<std::string> argv = {BALLAST_BINARY, "ctl", "--admin", loopback(lb.admin_port())};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p(argv, dir + "/ctl.log");
    *code = p.wait_exit(20000);
    return p.log();
  };
  int code = -1;
  std::string top = ctl({"top", "--iterations", "2"}, &code);
  EXPECT_EQ(code, 0) << top;
  EXPECT_NE(top.find("GROUP"), std::string::npos) << top;
  EXPECT_NE(top.find("P99 MS"), std::string::npos) << top;
  EXPECT_NE(top.find(loopback(a.port())), std::string::npos) << top;
  std::regex rate(R"(\napp +[0-9]+\.[0-9] )");
  EXPECT_TRUE(std::regex_search(top, rate)) << "a request rate for group app:\n" << top;

  std::string table = ctl({"metrics", "RequestCount", "target_group=app", "--stat", "Sum",
                           "--period", "1s", "--since", "30s"},
                          &code);
  EXPECT_EQ(code, 0) << table;
  EXPECT_NE(table.find("RequestCount Sum"), std::string::npos) << table;
  EXPECT_TRUE(std::regex_search(table, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +[1-9])")))
      << table;
  std::string bad = ctl({"metrics", "RequestCount", "--stat", "Median"}, &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(bad.find("400: stat \"Median\""), std::string::npos) << bad;
}

}  // namespace
}  // namespace ballast::test
