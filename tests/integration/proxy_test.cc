// End-to-end proxying through a real ballast process to real demo backends.
#include <gtest/gtest.h>

#include <map>

#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

// One listener whose `rules` (YAML lines, six spaces in) use groups "NAME1" and "NAME2",
// each with one target.
std::string two_group_config(const std::string& rules, const std::string& name1, uint16_t port1,
                             const std::string& name2, uint16_t port2) {
  return "workers: 1\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules:\n" +
         rules + "target_groups:\n  - name: " + name1 +
         "\n    targets: [{ address: " + loopback(port1) + " }]\n  - name: " + name2 +
         "\n    targets: [{ address: " + loopback(port2) + " }]\n";
}

class ProxyTest : public ::testing::Test {
 protected:
  DemoBackend a_{"a"};
  DemoBackend b_{"b"};
};

TEST_F(ProxyTest, ForwardsAndRoundRobinsAcrossTargets) {
  Ballast lb(proxy_config({a_.port(), b_.port()}, "    algorithm: round_robin\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::map<std::string, int> seen;
  Client c(lb.port());
  for (int i = 0; i < 10; ++i) {
    auto r = c.get("/health");
    ASSERT_TRUE(r) << lb.process().log();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok\n");
    seen[r->header("x-ballast-instance")]++;
  }
  EXPECT_EQ(seen["a"], 5);
  EXPECT_EQ(seen["b"], 5);
}

TEST_F(ProxyTest, WeightedRoundRobinFollowsWeights) {
  Ballast lb(
      proxy_config({a_.port(), b_.port()}, "    algorithm: weighted_round_robin\n", "", 1, {3, 1}));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto seen = instances_seen(lb.port(), 40);
  EXPECT_EQ(seen["a"], 30);
  EXPECT_EQ(seen["b"], 10);
}

TEST_F(ProxyTest, PipelinedRequestsAreAnsweredInOrder) {
  Ballast lb(proxy_config({a_.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  // The slow one goes first: its answer must still come first.
  ASSERT_TRUE(
      c.send_raw("GET /sleep?ms=200 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n"
                 "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r1 = c.read_response();
  auto r2 = c.read_response();
  auto r3 = c.read_response();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body, "slept 200ms\n");
  EXPECT_EQ(r2->status, 201);
  EXPECT_NE(r3->body.find("GET /echo HTTP/1.1"), std::string::npos);
}

TEST_F(ProxyTest, Http10ClientsWork) {
  Ballast lb(proxy_config({a_.port()}));
  ASSERT_TRUE(lb.ready());
  {
    // No Host, no keep-alive: answered, then closed.
    Client c(lb.port());
    ASSERT_TRUE(c.send_raw("GET /echo HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    bool closed = false;
    c.read_until_close(&closed);
    EXPECT_TRUE(closed);
  }
  {
    // Keep-alive asked for: the connection stays open for a second request.
    Client c(lb.port());
    ASSERT_TRUE(c.send_raw("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("connection"), "keep-alive");
    ASSERT_TRUE(c.send_raw("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    EXPECT_TRUE(c.read_response());
  }
  {
    // A chunked response reaches an HTTP/1.0 client as a body that ends at close.
    Client c(lb.port());
    ASSERT_TRUE(c.send_raw("GET /bytes/100000?mode=chunked HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header("transfer-encoding"), "");
    EXPECT_EQ(r->body.size(), 100000u);
  }
}

TEST_F(ProxyTest, HopByHopHeadersAreRemovedAndForwardingHeadersSet) {
  Ballast lb(proxy_config({a_.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(
      c.send_raw("GET /echo HTTP/1.1\r\nHost: shop.example\r\nConnection: keep-alive, X-Secret\r\n"
                 "X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\n"
                 "Proxy-Authorization: Basic Zm9v\r\nX-Forwarded-For: 203.0.113.7\r\n"
                 "X-Forwarded-Proto: https\r\nX-End-To-End: yes\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  const std::string& seen = r->body;
  for (const char* gone : {"Connection:", "X-Secret", "Keep-Alive", "TE:", "Upgrade",
                           "Proxy-Authorization", "X-Forwarded-Proto: https"}) {
    EXPECT_EQ(seen.find(gone), std::string::npos) << gone << " was forwarded:\n" << seen;
  }
  EXPECT_NE(seen.find("X-End-To-End: yes"), std::string::npos);
  EXPECT_NE(seen.find("Host: shop.example"), std::string::npos);
  EXPECT_NE(seen.find("X-Forwarded-For: 203.0.113.7, 127.0.0.1"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Forwarded-Proto: http\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Forwarded-Host: shop.example"), std::string::npos);
  EXPECT_NE(seen.find("X-Request-Id: "), std::string::npos);
}

TEST_F(ProxyTest, RequestIdIsGeneratedOnlyWhenAbsent) {
  Ballast lb(proxy_config({a_.port()}));
  ASSERT_TRUE(lb.ready());
  auto with = http_get(lb.port(), "/echo", "X-Request-Id: abc-123\r\n");
  ASSERT_TRUE(with);
  EXPECT_NE(with->body.find("X-Request-Id: abc-123"), std::string::npos);
  EXPECT_EQ(with->body.find("X-Request-Id: ", with->body.find("abc-123")), std::string::npos);
  auto without1 = http_get(lb.port(), "/echo");
  auto without2 = http_get(lb.port(), "/echo");
  ASSERT_TRUE(without1 && without2);
  auto id = [](const std::string& body) {
    size_t p = body.find("X-Request-Id: ");
    return p == std::string::npos ? std::string() : body.substr(p + 14, 36);
  };
  EXPECT_EQ(id(without1->body).size(), 36u);
  EXPECT_NE(id(without1->body), id(without2->body));
}

TEST_F(ProxyTest, RoutesByPathAndHostAnd404sWhenNothingMatches) {
  std::string yaml = two_group_config(
      "      - match: { path_prefix: /api/ }\n        forward: { target_group: a }\n"
      "      - match: { host: \"*.b.example\" }\n        forward: { target_group: b }\n",
      "a", a_.port(), "b", b_.port());
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto api = http_get(lb.port(), "/api/x");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->header("x-ballast-instance"), "a");
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: www.b.example:8080\r\n\r\n"));
  auto host = c.read_response();
  ASSERT_TRUE(host);
  EXPECT_EQ(host->header("x-ballast-instance"), "b");
  auto none = http_get(lb.port(), "/other");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_NE(none->body.find("no rule"), std::string::npos);
}

TEST_F(ProxyTest, HeadAnd304ResponsesHaveNoBody) {
  Ballast lb(proxy_config({a_.port()}));
  ASSERT_TRUE(lb.ready());
  Client c(lb.port());
  ASSERT_TRUE(c.send_raw("HEAD /bytes/5000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.read_response(true, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("content-length"), "5000");
  // The same connection still works: no stray body bytes were sent.
  auto nm = c.get("/status/304");
  ASSERT_TRUE(nm);
  EXPECT_EQ(nm->status, 304);
  auto ok = c.get("/health");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "ok\n");
}

TEST(AlgorithmsTest, RingHashOnAHeaderKeepsEachUserOnOneTarget) {
  DemoBackend a("a"), b("b");
  Ballast lb(proxy_config({a.port(), b.port()},
                          "    algorithm: ring_hash\n    hash_on: { header: X-User }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  std::map<std::string, std::string> home;
  std::map<std::string, int> per_target;
  Client c(lb.port());
  for (int round = 0; round < 3; ++round) {
    for (int user = 0; user < 20; ++user) {
      std::string name = "user" + std::to_string(user);
      ASSERT_TRUE(c.send_raw("GET / HTTP/1.1\r\nHost: x\r\nX-User: " + name + "\r\n\r\n"));
      auto r = c.read_response();
      ASSERT_TRUE(r);
      std::string instance = r->header("x-ballast-instance");
      if (round == 0) {
        home[name] = instance;
        per_target[instance]++;
      } else {
        EXPECT_EQ(instance, home[name]) << name << " moved";
      }
    }
  }
  EXPECT_EQ(per_target.size(), 2u) << "20 users spread over both targets";
}

TEST(AlgorithmsTest, EveryAlgorithmServesTraffic) {
  DemoBackend a("a"), b("b");
  for (const char* algo :
       {"round_robin", "weighted_round_robin", "least_connections", "least_outstanding_requests",
        "random", "ip_hash", "ring_hash", "maglev", "least_time"}) {
    Ballast lb(proxy_config({a.port(), b.port()}, std::string("    algorithm: ") + algo + "\n"));
    ASSERT_TRUE(lb.ready()) << algo << lb.process().log();
    auto seen = instances_seen(lb.port(), 10);
    EXPECT_EQ(seen["a"] + seen["b"], 10) << algo << ": every request answered 200 by a target";
  }
}

TEST(RulesTest, FixedResponsesRedirectsAndConditionsOnOneKeepAliveConnection) {
  DemoBackend a("a"), b("b");
  std::string yaml =
      "workers: 1\n"
      "listeners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n    rules:\n"
      "      - forward: { target_group: main }\n"
      "      - priority: 1\n        match: { path: /ping }\n"
      "        fixed_response: { status: 200, body: pong, content_type: text/plain }\n"
      "      - priority: 2\n        match: { host: old.example.com }\n"
      "        redirect: { status: 301, location: \"https://new.example.com#{path}?#{query}\" }\n"
      "      - priority: 3\n        match: { headers: { X-Canary: \"1\" } }\n"
      "        forward: { target_group: canary }\n"
      "      - priority: 4\n        match: { method: DELETE }\n"
      "        fixed_response: { status: 405, body: \"no deletes\" }\n"
      "target_groups:\n"
      "  - name: main\n    targets: [{ address: 127.0.0.1:" +
      std::to_string(a.port()) +
      " }]\n"
      "  - name: canary\n    targets: [{ address: 127.0.0.1:" +
      std::to_string(b.port()) + " }]\n";
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Client c(lb.port());
  auto ask = [&](const std::string& request) {
    EXPECT_TRUE(c.send_raw(request));
    auto r = c.read_response();
    EXPECT_TRUE(r) << request;
    return r.value_or(Response{});
  };
  auto ping = ask("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body, "pong");
  EXPECT_EQ(ping.header("content-type"), "text/plain");
  auto moved = ask("GET /a/b?c=1 HTTP/1.1\r\nHost: old.example.com\r\n\r\n");
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.header("location"), "https://new.example.com/a/b?c=1");
  auto canary = ask("GET / HTTP/1.1\r\nHost: x\r\nX-Canary: 1\r\n\r\n");
  EXPECT_EQ(canary.header("x-ballast-instance"), "b");
  auto deleted = ask("DELETE /thing HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(deleted.status, 405);
  EXPECT_EQ(deleted.body, "no deletes");
  auto normal = ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(normal.header("x-ballast-instance"), "a")
      << "the body of the DELETE was dropped cleanly";
}

TEST(RulesTest, WeightedTargetGroupsSplitTraffic) {
  DemoBackend blue("blue"), green("green");
  std::string yaml = two_group_config(
      "      - forward: [{ target_group: blue, weight: 3 }, { target_group: green, weight: 1 }]\n",
      "blue", blue.port(), "green", green.port());
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto seen = instances_seen(lb.port(), 400);
  // 25% expected; the bounds are over five standard deviations wide.
  EXPECT_GT(seen["green"], 55);
  EXPECT_LT(seen["green"], 145);
  EXPECT_EQ(seen["blue"] + seen["green"], 400);
}

TEST(RulesTest, GroupStickinessKeepsAClientOnItsGroup) {
  DemoBackend blue("blue"), green("green");
  std::string yaml = two_group_config(
      "      - forward: [{ target_group: blue, weight: 1 }, { target_group: green, weight: 1 }]\n"
      "        group_stickiness: 1h\n",
      "blue", blue.port(), "green", green.port());
  Ballast lb(yaml);
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  auto first = http_get(lb.port(), "/");
  ASSERT_TRUE(first);
  std::string set_cookie = first->header("set-cookie");
  ASSERT_EQ(set_cookie.rfind("BALLASTTG_web=", 0), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("Max-Age=3600"), std::string::npos) << set_cookie;
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  std::string group = first->header("x-ballast-instance");
  auto seen = instances_seen(lb.port(), 40, "Cookie: " + cookie + "\r\n");
  EXPECT_EQ(seen[group], 40) << "every request with the cookie stays on " << group;
  auto unpinned = instances_seen(lb.port(), 100);
  EXPECT_GT(unpinned["blue"], 0);
  EXPECT_GT(unpinned["green"], 0);
}

}  // namespace
}  // namespace ballast::test
