// A rule's rate_limit: 429 with Retry-After past the burst, a bucket per key shared by every
// worker, counted per rule; other rules and keys unaffected.
#include <gtest/gtest.h>

#include <map>

#include "support/http_client.h"
#include "support/load_loop.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

std::string config(const std::string& key) {
  return "workers: 2\nlisteners:\n  - name: web\n    bind: 127.0.0.1:${PORT}\n"
         "    rules:\n"
         "      - match: { path_prefix: /api/ }\n"
         "        fixed_response: { status: 200, body: api }\n"
         "        rate_limit: { requests: 5, per: 1m, key: " +
         key +
         " }\n"
         "      - fixed_response: { status: 200, body: free }\n";
}

// `n` requests, each on a new connection (so both workers take some), with `headers`; the
// statuses seen, and the last 429's Retry-After and body.
struct Outcome {
  std::map<int, int> statuses;
  std::string retry_after, body;
};
Outcome send(uint16_t port, const std::string& path, int n, const std::string& headers = "") {
  Outcome o;
  for (int i = 0; i < n; ++i) {
    Client c(port);
    if (!c.send_raw("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + headers + "\r\n")) continue;
    auto r = c.read_response();
    if (!r) continue;
    ++o.statuses[r->status];
    if (r->status == 429) {
      o.retry_after = r->header("retry-after");
      o.body = r->body;
    }
  }
  return o;
}

TEST(RateLimitTest, PastTheBurstEachClientGets429WithRetryAfter) {
  Ballast lb(config("client_ip"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  Outcome o = send(lb.port(), "/api/items", 8);
  EXPECT_EQ(o.statuses[200], 5) << "the burst, across both workers";
  EXPECT_EQ(o.statuses[429], 3);
  int retry = std::atoi(o.retry_after.c_str());
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 12) << "5 a minute: the next is due within 12 s";
  EXPECT_NE(o.body.find("allows 5 requests per 60000ms"), std::string::npos) << o.body;
  // Another rule is not limited.
  EXPECT_EQ(send(lb.port(), "/other", 10).statuses[200], 10);
  EXPECT_TRUE(within(5, [&] {
    return metric_value(lb.admin_port(),
                        "ballast_rule_rate_limited_total{listener=\"web\",rule=\"0\"}") == 3;
  })) << admin_call(lb.admin_port(), "GET", "/metrics").body;
}

TEST(RateLimitTest, AHeaderKeyGivesEachValueItsOwnBucket) {
  Ballast lb(config("{ header: X-Api-Key }"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_EQ(send(lb.port(), "/api/a", 7, "X-Api-Key: alice\r\n").statuses[200], 5);
  EXPECT_EQ(send(lb.port(), "/api/a", 7, "X-Api-Key: bob\r\n").statuses[200], 5);
  // Without the header: keyed by the client's address, a bucket of its own.
  EXPECT_EQ(send(lb.port(), "/api/a", 7).statuses[200], 5);
}

TEST(RateLimitTest, ARuleKeyIsOneBucketForEveryone) {
  Ballast lb(config("rule"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  EXPECT_EQ(send(lb.port(), "/api/a", 3, "X-Api-Key: alice\r\n").statuses[200], 3);
  Outcome o = send(lb.port(), "/api/b", 4, "X-Api-Key: bob\r\n");
  EXPECT_EQ(o.statuses[200], 2);
  EXPECT_EQ(o.statuses[429], 2);
}

}  // namespace
}  // namespace ballast::test
