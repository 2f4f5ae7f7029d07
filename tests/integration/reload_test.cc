// Hitless reload: SIGHUP and POST /api/v1/reload apply a new file without closing
// listeners or failing requests; a bad file keeps the old configuration and says why.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

using nlohmann::json;

TEST(ReloadTest, TwentyReloadsUnderLoadFailNoRequest) {
  DemoBackend a("a"), b("b");
  const std::string one = proxy_config({a.port()}, "    algorithm: round_robin\n", "", 2);
  const std::string two =
      proxy_config({a.port(), b.port()}, "    algorithm: least_outstanding_requests\n", "", 2);
  Ballast lb(one);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  LoadLoop load(lb.port(), 4);
  ASSERT_TRUE(load.wait_for_more(200)) << lb.process().log();
  for (int i = 1; i <= 20; ++i) {
    lb.rewrite_config(i % 2 == 1 ? two : one);
    if (i % 4 == 0) {
      ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
    } else {
      lb.process().signal(SIGHUP);
    }
    ASSERT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == i + 1; }))
        << lb.process().log();
    ASSERT_TRUE(load.wait_for_more(300)) << lb.process().log();
  }
  load.stop();
  EXPECT_EQ(load.failed(), 0) << load.first_failure() << "\n" << lb.process().log();
  EXPECT_GT(load.instances()["b"], 0) << "the reloads that added b took effect";
  EXPECT_GT(load.done(), 6000);
}

// Connections queued on a listener that a reload removes are accepted after the new
// configuration is installed. They must be served by the rules they arrived under, or
// closed unanswered: never routed by a group position that indexes the new configuration's
// table (another group there, or past its end, which used to crash ballast).
TEST(ReloadTest, QueuedConnectionsOfARemovedListenerKeepTheirConfiguration) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  DemoBackend a("a"), b("b"), c("c"), d("d");
  const uint16_t gone = free_port();
  auto group = [](const std::string& name, const DemoBackend& backend) {
    // 3,000 connections to targets at once, on a machine that may be running sanitizer
    // builds: connect_timeout is not what this test is about.
    return "  - { name: " + name +
           ", connect_timeout: 30s, targets: [{ address: " + loopback(backend.port()) + " }] }\n";
  };
  const std::string keep =
      "workers: 1\nlisteners:\n  - name: keep\n    bind: 127.0.0.1:${PORT}\n"
      "    rules:\n      - forward: { target_group: ga }\n";
  // /c goes to gc (position 1), the rest to gd (position 2).
  const std::string before = keep + "  - name: gone\n    bind: " + loopback(gone) +
                             "\n    rules:\n      - match: { path_prefix: /c }\n"
                             "        forward: { target_group: gc }\n"
                             "      - forward: { target_group: gd }\n"
                             "target_groups:\n" +
                             group("ga", a) + group("gc", c) + group("gd", d);
  // Fewer groups, in another order: position 1 is now ga, position 2 is past the end.
  const std::string after = keep + "target_groups:\n" + group("gb", b) + group("ga", a);
  Ballast lb(before);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(wait_for_port(gone));

  lb.process().signal(SIGSTOP);
  constexpr int kQueued = 3000;
  std::vector<std::unique_ptr<Client>> queued;
  for (int i = 0; i < kQueued; ++i) {
    auto client = std::make_unique<Client>(gone, 20000);
    ASSERT_TRUE(client->connected()) << "connection " << i;
    ASSERT_TRUE(client->send_raw(std::string(i % 2 == 0 ? "GET /c" : "GET /d") +
                                 " HTTP/1.1\r\nHost: x\r\n\r\n"));
    queued.push_back(std::move(client));
  }
  lb.rewrite_config(after);
  lb.process().signal(SIGHUP);
  lb.process().signal(SIGCONT);

  std::map<std::string, int> answers;  // "path instance"
  for (int i = 0; i < kQueued; ++i) {
    auto r = queued[static_cast<size_t>(i)]->read_response();
    std::string path = i % 2 == 0 ? "/c" : "/d";
    if (!r) {
      answers[path + " closed unanswered"]++;
      continue;
    }
    std::string instance = r->header("x-ballast-instance");
    answers[path + " " + (instance.empty() ? "status " + std::to_string(r->status) : instance)]++;
  }
  queued.clear();
  ASSERT_TRUE(lb.process().running()) << lb.process().log();
  for (const auto& [what, count] : answers) {
    EXPECT_TRUE(what == "/c c" || what == "/d d" || what.ends_with("closed unanswered"))
        << count << " answer(s) " << what << "\n"
        << lb.process().log();
  }
  EXPECT_TRUE(within(10, [&] { return config_generation(lb.admin_port()) == 2; }))
      << lb.process().log();
  EXPECT_EQ(instances_seen(lb.port(), 5)["a"], 5) << "the remaining listener serves";
  EXPECT_FALSE(http_get(gone, "/c")) << "the removed one closed";
  std::cout << "queued connections: " << ::testing::PrintToString(answers) << "\n";
}

TEST(ReloadTest, ABadFileKeepsTheRunningConfigurationAndSaysWhy) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}));
  ASSERT_TRUE(lb.ready());
  lb.rewrite_config(
      "listeners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules: []\n"
      "target_groups:\n  - name: app\n    algoritm: random\n");
  AdminAnswer r = admin_call(lb.admin_port(), "POST", "/api/v1/reload");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("ballast.yaml:7:5: target_groups[0].algoritm: unknown key"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(instances_seen(lb.port(), 5)["a"], 5) << "the old configuration still serves";
  json status = json::parse(admin_call(lb.admin_port(), "GET", "/api/v1/status").body);
  EXPECT_EQ(status["last_reload"]["ok"], false);
  EXPECT_EQ(status["config_generation"], 1);
  EXPECT_FALSE(status["last_reload"]["errors"].empty());

  lb.process().signal(SIGHUP);
  ASSERT_TRUE(
      within(10, [&] { return lb.process().log().find("reload (SIGHUP):") != std::string::npos; }));
  EXPECT_NE(lb.process().log().find("the running configuration stays"), std::string::npos)
      << lb.process().log();
  EXPECT_EQ(instances_seen(lb.port(), 5)["a"], 5);
}

TEST(ReloadTest, ListenersComeAndGoWithoutTouchingTheOthers) {
  DemoBackend a("a");
  uint16_t second = free_port();
  std::string base = proxy_config({a.port()});
  Ballast lb(base);
  ASSERT_TRUE(lb.ready());
  Client kept(lb.port());
  ASSERT_TRUE(kept.get("/"));
  std::string with_second = base +
                            "  - name: extra\n    bind: 127.0.0.1:" + std::to_string(second) +
                            "\n    rules:\n      - fixed_response: { status: 200, body: extra }\n";
  // The listeners list is not last in proxy_config's text: insert the extra listener in it.
  with_second = replace_all(base, "target_groups:",
                            "  - name: extra\n    bind: 127.0.0.1:" + std::to_string(second) +
                                "\n    rules:\n      - fixed_response: { status: 200, body: "
                                "extra }\ntarget_groups:");
  lb.rewrite_config(with_second);
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200)
      << lb.process().log();
  ASSERT_TRUE(wait_for_port(second));
  auto extra = http_get(second, "/");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->body, "extra");
  auto r = kept.get("/");
  ASSERT_TRUE(r) << "a keep-alive connection survives the reload";
  EXPECT_EQ(r->status, 200);

  lb.rewrite_config(base);
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
  EXPECT_TRUE(within(10, [&] { return !http_get(second, "/"); })) << "the removed listener closed";
  r = kept.get("/");
  ASSERT_TRUE(r) << lb.process().log();
  EXPECT_EQ(r->status, 200);
}

TEST(ReloadTest, TargetsRegisteredThroughTheApiSurviveAReload) {
  DemoBackend a("a"), b("b");
  std::string config = proxy_config({a.port()}, "    algorithm: round_robin\n");
  Ballast lb(config);
  ASSERT_TRUE(lb.ready());
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/target-groups/app/targets",
                       R"({"address": "127.0.0.1:)" + std::to_string(b.port()) + R"("})")
                .status,
            201);
  lb.rewrite_config(replace_all(config, "round_robin", "random"));
  ASSERT_EQ(admin_call(lb.admin_port(), "POST", "/api/v1/reload").status, 200);
  json g = json::parse(admin_call(lb.admin_port(), "GET", "/api/v1/target-groups/app").body);
  EXPECT_EQ(g["algorithm"], "random");
  ASSERT_EQ(g["targets"].size(), 2u) << g.dump();
  EXPECT_EQ(g["targets"][1]["source"], "api");
  EXPECT_TRUE(within(10, [&] {
    auto s = instances_seen(lb.port(), 40);
    return s["a"] > 0 && s["b"] > 0;
  }));
}

}  // namespace
}  // namespace ballast::test
