#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ballast::core {
namespace {

constexpr int64_t kSecond = 1000000;

TEST(RateLimiterTest, ABurstThenTheSustainedRate) {
  RateLimiter limiter(10, kSecond, 5);  // 10 a second, 5 at once
  int64_t now = 1000 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit(7, now).allowed) << i;
  RateLimiter::Decision refused = limiter.admit(7, now);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_us, kSecond / 10) << "the next request is due in 100 ms";
  EXPECT_FALSE(limiter.admit(7, now + kSecond / 10 - 1).allowed);
  EXPECT_TRUE(limiter.admit(7, now + kSecond / 10).allowed);
  // A quiet spell gives the whole burst back, never more.
  now += 10 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit(7, now).allowed) << i;
  EXPECT_FALSE(limiter.admit(7, now).allowed);
}

TEST(RateLimiterTest, OverTimeAdmitsTheRateWhateverTheDemand) {
  RateLimiter limiter(100, 60 * kSecond, 1);  // 100 a minute, no burst
  int admitted = 0;
  for (int64_t t = 0; t < 60 * kSecond; t += kSecond / 100) {  // 100 attempts a second
    if (limiter.admit(1, 5 * kSecond + t).allowed) ++admitted;
  }
  EXPECT_EQ(admitted, 100);
}

TEST(RateLimiterTest, KeysHaveBucketsOfTheirOwn) {
  RateLimiter limiter(1, kSecond, 1);
  EXPECT_TRUE(limiter.admit(1, kSecond).allowed);
  EXPECT_FALSE(limiter.admit(1, kSecond).allowed);
  EXPECT_TRUE(limiter.admit(2, kSecond).allowed);
  // Slots are taken by the low bits: keys far apart in value meet only if those agree.
  EXPECT_FALSE(limiter.admit(1 + RateLimiter::kSlots, kSecond).allowed) << "same slot";
}

TEST(RateLimiterTest, ThreadsTogetherNeverGetMoreThanTheBurst) {
  RateLimiter limiter(1, 3600 * kSecond, 1000);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.admit(42, kSecond).allowed) admitted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(admitted.load(), 1000);
}

}  // namespace
}  // namespace ballast::core
