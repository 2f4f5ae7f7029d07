// Active health checks: unhealthy targets leave, recover, and fail-open/closed applies
// when none is healthy. Passive health: a target whose requests keep failing is ejected.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// interval 200ms, thresholds 2 / 2: a change shows within about 0.5 s; the tests allow 10 s.
const std::string kChecks =
    "    algorithm: round_robin\n"
    "    health_check: { path: /health, interval: 200ms, timeout: 150ms, healthy_threshold: 2, "
    "unhealthy_threshold: 2 }\n";

void set_health(uint16_t port, bool ok) {
  Client c(port);
  ASSERT_TRUE(c.send_raw(std::string("POST /control/health?ok=") + (ok ? "true" : "false") +
                         " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
}

// Polls (every 100 ms, at most `seconds`) until `pred` holds for the current instances_seen().
template <typename Pred>
bool eventually(uint16_t port, Pred pred, int seconds = 10) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (pred(instances_seen(port, 10))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST(HealthTest, FailingTargetLeavesAndComesBack) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()}, kChecks));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string b_name = "127.0.0.1:" + std::to_string(b.port());
  auto logged = [&](const std::string& text) {
    return eventually(lb.port(),
                      [&](auto) { return lb.process().log().find(text) != std::string::npos; });
  };
  ASSERT_TRUE(logged(b_name + " is healthy")) << lb.process().log();
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s["a"] > 0 && s["b"] > 0; }))
      << lb.process().log();

  set_health(b.port(), false);
  ASSERT_TRUE(logged(b_name + " is unhealthy (status: status 503)")) << lb.process().log();
  // While it is out, it gets nothing at all.
  EXPECT_EQ(instances_seen(lb.port(), 20)["a"], 20);

  set_health(b.port(), true);
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s["a"] > 0 && s["b"] > 0; }))
      << lb.process().log();
}

TEST(HealthTest, TcpCheckKeepsTrafficOffAClosedPort) {
  DemoBackend a("a");
  uint16_t closed = free_port();
  Ballast lb(proxy_config({a.port(), closed},
                          "    algorithm: round_robin\n"
                          "    health_check: { protocol: tcp, interval: 200ms, timeout: 150ms, "
                          "healthy_threshold: 1, unhealthy_threshold: 1 }\n"));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(eventually(lb.port(), [&](auto) {
    return lb.process().log().find("is unhealthy (connect refused") != std::string::npos;
  })) << lb.process().log();
  // Once a has passed its check too (until then no target is healthy: fail open)...
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s["a"] == 10; })) << lb.process().log();
  // ...no request goes to the closed port.
  EXPECT_EQ(instances_seen(lb.port(), 20)["a"], 20);
}

TEST(HealthTest, FailOpenRoutesToAllWhenNoneIsHealthy) {
  DemoBackend a("a"), b("b");
  set_health(a.port(), false);
  set_health(b.port(), false);
  Ballast lb(proxy_config({a.port(), b.port()}, kChecks));
  ASSERT_TRUE(lb.ready());
  ASSERT_TRUE(eventually(lb.port(), [&](auto) {
    return lb.process().log().find("no healthy target; routing to all") != std::string::npos;
  }));
  auto s = instances_seen(lb.port(), 10);
  EXPECT_EQ(s["a"] + s["b"], 10) << "fail open: both still serve";
}

TEST(HealthTest, FailClosedAnswers503) {
  DemoBackend a("a");
  set_health(a.port(), false);
  Ballast lb(proxy_config({a.port()}, kChecks + "    fail_open: false\n"));
  ASSERT_TRUE(lb.ready());
  // A 503 closes its connection, so each poll sees one answer.
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s.size() == 1 && s.count("status 503"); }))
      << lb.process().log();
  auto r = http_get(lb.port(), "/");
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("has no healthy target"), std::string::npos) << r->body;
  set_health(a.port(), true);
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s["a"] == 10; }));
}

TEST(OutlierDetectionTest, ATargetThatKeepsFailingIsEjected) {
  DemoBackend a("a");
  RecordingServer broken([](const std::string&) {
    return std::string("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  });
  Ballast lb(
      proxy_config({a.port(), broken.port()},
                   "    algorithm: round_robin\n"
                   "    outlier_detection: { consecutive_failures: 3, base_ejection_time: 1m, "
                   "max_ejection_percent: 50 }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::map<std::string, int> seen;
  Client c(lb.port());
  for (int i = 0; i < 40; ++i) {
    auto r = c.get("/");
    ASSERT_TRUE(r);
    seen[std::to_string(r->status)]++;
  }
  EXPECT_EQ(seen["500"], 3) << "three failures, then the target is out";
  EXPECT_EQ(seen["200"], 37);
  EXPECT_NE(lb.process().log().find("ejecting 127.0.0.1:" + std::to_string(broken.port()) +
                                    " for 60s after 3 consecutive failures"),
            std::string::npos)
      << lb.process().log();
}

TEST(SlowStartEndToEndTest, ATargetThatTurnsHealthyStartsWithASmallShare) {
  DemoBackend a("a"), b("b");
  set_health(b.port(), false);
  Ballast lb(proxy_config({a.port(), b.port()}, kChecks + "    slow_start: 5s\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  const std::string b_name = "127.0.0.1:" + std::to_string(b.port());
  ASSERT_TRUE(eventually(lb.port(), [&](auto s) { return s["a"] == 10; })) << lb.process().log();
  set_health(b.port(), true);
  ASSERT_TRUE(eventually(lb.port(), [&](auto) {
    return lb.process().log().find(b_name + " is healthy") != std::string::npos;
  })) << lb.process().log();
  // Right after: about 10% of its weight, so about a tenth of the traffic (not half).
  auto early = instances_seen(lb.port(), 40);
  EXPECT_LE(early["b"], 12) << "b got " << early["b"] << " of 40 at the start of its ramp";
  // After the window: an even share.
  ASSERT_TRUE(eventually(
      lb.port(), [](auto s) { return s["a"] == 5 && s["b"] == 5; }, 15))
      << lb.process().log();
}

std::string cookie_value(const Response& r, const std::string& name) {
  std::string set = r.header("set-cookie");
  if (set.rfind(name + "=", 0) != 0) return "";
  return set.substr(name.size() + 1, set.find(';') - name.size() - 1);
}

TEST(StickinessTest, LbCookiePinsAClientAndMovesItWhenItsTargetFails) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()},
                          kChecks + "    stickiness: { type: lb_cookie, duration: 1h }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  ASSERT_TRUE(eventually(lb.port(), [](auto s) { return s["a"] > 0 && s["b"] > 0; }));
  Client c(lb.port());
  auto get = [&](const std::string& cookie) {
    std::string extra = cookie.empty() ? "" : "Cookie: other=1; BALLAST_app=" + cookie + "\r\n";
    EXPECT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n"));
    return c.read_response().value_or(Response{});
  };
  auto first = get("");
  std::string pinned = first.header("x-ballast-instance");
  std::string cookie = cookie_value(first, "BALLAST_app");
  ASSERT_EQ(cookie.size(), 16u) << first.header("set-cookie");
  EXPECT_NE(first.header("set-cookie").find("Max-Age=3600; Path=/; HttpOnly"), std::string::npos);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(get(cookie).header("x-ballast-instance"), pinned);

  // Its target fails: the next request is served elsewhere and re-pinned there.
  set_health(pinned == "a" ? a.port() : b.port(), false);
  ASSERT_TRUE(eventually(lb.port(), [&](auto s) { return s[pinned] == 0; }));
  auto moved = get(cookie);
  EXPECT_EQ(moved.status, 200);
  EXPECT_NE(moved.header("x-ballast-instance"), pinned);
  EXPECT_NE(cookie_value(moved, "BALLAST_app"), cookie);
  EXPECT_EQ(get("not-hex").status, 200) << "a malformed cookie is ignored";
}

TEST(StickinessTest, AppCookiePinsOnceTheApplicationSetsItsCookie) {
  RecordingServer app([](const std::string& head) {
    bool login = head.find("GET /login") == 0;
    return std::string("HTTP/1.1 200 OK\r\n") +
           (login ? "Set-Cookie: SESSION=abc; Path=/\r\n" : "") + "Content-Length: 2\r\n\r\nok";
  });
  DemoBackend other("other");
  Ballast lb(proxy_config({app.port(), other.port()},
                          "    algorithm: round_robin\n"
                          "    stickiness: { type: app_cookie, cookie_name: SESSION }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Requests without a login are not pinned.
  auto plain = http_get(lb.port(), "/");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->header("set-cookie").find("BALLASTAPP_app"), std::string::npos);
  // Round robin sends /login to the app server within two tries; its response pins.
  std::string pin;
  for (int i = 0; i < 2 && pin.empty(); ++i) {
    auto r = http_get(lb.port(), "/login");
    ASSERT_TRUE(r);
    for (auto [it, end] = r->headers.equal_range("set-cookie"); it != end; ++it) {
      if (it->second.rfind("BALLASTAPP_app=", 0) == 0) pin = it->second.substr(15, 16);
    }
  }
  ASSERT_EQ(pin.size(), 16u);
  size_t before = app.requests();
  for (int i = 0; i < 6; ++i) {
    auto r = http_get(lb.port(), "/cart", "Cookie: SESSION=abc; BALLASTAPP_app=" + pin + "\r\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(app.requests(), before + 6) << "every pinned request reached the app server";
}

}  // namespace
}  // namespace ballast::test
