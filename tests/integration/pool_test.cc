// Upstream keep-alive: each worker reuses idle connections to each target.
#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/recording_server.h"
#include "support/test_env.h"

namespace ballast::test {
namespace {

TEST(PoolTest, UpstreamConnectionsAreReused) {
  RecordingServer target;
  Ballast lb(proxy_config({target.port()}, "", "", /*workers=*/2));
  ASSERT_TRUE(lb.ready()) << lb.process().log();
  int requests = 0;
  // 20 client connections of 10 requests each, one after another.
  for (int conn = 0; conn < 20; ++conn) {
    Client c(lb.port());
    for (int i = 0; i < 10; ++i) {
      auto r = c.get("/r");
      ASSERT_TRUE(r) << lb.process().log();
      ASSERT_EQ(r->status, 200);
      ++requests;
    }
  }
  EXPECT_EQ(target.requests(), static_cast<size_t>(requests));
  // One connection per worker would do; allow a few for scheduling, far below 200.
  EXPECT_LE(target.connections(), 4u) << "requests: " << requests;
}

TEST(PoolTest, ConcurrentClientsShareABoundedPool) {
  DemoBackend backend;
  Ballast lb(proxy_config({backend.port()}, "    keepalive: { max_idle: 8, idle_timeout: 30s }\n"));
  ASSERT_TRUE(lb.ready());
  // Many client connections in parallel (interleaved on one thread): the pool keeps up
  // to max_idle connections and every request succeeds.
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(std::make_unique<Client>(lb.port()));
  for (int round = 0; round < 5; ++round) {
    for (auto& c : clients) ASSERT_TRUE(c->send_raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    for (auto& c : clients) {
      auto r = c->read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 200);
    }
  }
}

TEST(PoolTest, StaleIdleConnectionIsRetriedTransparently) {
  // The target closes each connection after one response without saying so
  // (no "Connection: close"): the pooled connection is stale on reuse.
  RecordingServer target(
      [](const std::string&) {
        return std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      },
      /*close_after_response=*/true);
  Ballast lb(proxy_config({target.port()}));
  ASSERT_TRUE(lb.ready());
  for (int i = 0; i < 20; ++i) {
    auto r = http_get(lb.port(), "/x");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

}  // namespace
}  // namespace ballast::test
