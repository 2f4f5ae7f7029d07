#include "proxy/circuit_breaker.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ballast::proxy {
namespace {

TEST(CircuitBreakerTest, LimitsEachKindSeparately) {
  config::CircuitBreakerConfig c;
  c.max_requests = 2;
  c.max_connections = 1;
  CircuitBreaker b(c);
  using K = CircuitBreaker::Kind;
  EXPECT_TRUE(b.try_acquire(K::kRequests));
  EXPECT_TRUE(b.try_acquire(K::kRequests));
  EXPECT_FALSE(b.try_acquire(K::kRequests));
  b.release(K::kRequests);
  EXPECT_TRUE(b.try_acquire(K::kRequests));
  EXPECT_TRUE(b.try_acquire(K::kConnections));
  EXPECT_FALSE(b.try_acquire(K::kConnections));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.try_acquire(K::kPendingRequests)) << "0: no limit";
  EXPECT_STREQ(CircuitBreaker::name(K::kPendingRequests), "max_pending_requests");
}

TEST(CircuitBreakerTest, NeverAdmitsMoreThanTheLimitAcrossThreads) {
  config::CircuitBreakerConfig c;
  c.max_requests = 10;
  CircuitBreaker b(c);
  std::atomic<int> inside{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (!b.try_acquire(CircuitBreaker::Kind::kRequests)) continue;
        int now = ++inside;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        --inside;
        b.release(CircuitBreaker::Kind::kRequests);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 10);
}

}  // namespace
}  // namespace ballast::proxy
