// Circuit breaking: beyond a target group's limits the answer is an immediate 503 that
// says which limit, and the slots come back when requests finish.
#include <gtest/gtest.h>

#include <thread>

#include "support/http_client.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

TEST(CircuitBreakingTest, BeyondMaxRequestsTheAnswerIsAnImmediate503) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}, "    circuit_breaker: { max_requests: 2 }\n"));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  // Two slow requests hold both slots...
  Client slow1(lb.port()), slow2(lb.port());
  ASSERT_TRUE(slow1.send_raw("GET /sleep?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(slow2.send_raw("GET /sleep?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // ...so a third is refused at once, saying why.
  auto refused = http_get(lb.port(), "/health");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("is at its max_requests limit (2)"), std::string::npos)
      << refused->body;
  auto r1 = slow1.read_response();
  auto r2 = slow2.read_response();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);
  // The slots are free again.
  auto after = http_get(lb.port(), "/health");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(CircuitBreakingTest, MaxConnectionsBoundsUpstreamConnections) {
  DemoBackend a("a");
  Ballast lb(proxy_config({a.port()}, "    circuit_breaker: { max_connections: 1 }\n"));
  ASSERT_TRUE(lb.ready());
  Client slow(lb.port());
  ASSERT_TRUE(slow.send_raw("GET /sleep?ms=1000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto refused = http_get(lb.port(), "/health");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("max_connections limit (1)"), std::string::npos) << refused->body;
  ASSERT_TRUE(slow.read_response());
  // The one connection is back in the pool and serves the next request.
  auto after = http_get(lb.port(), "/health");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

}  // namespace
}  // namespace ballast::test
