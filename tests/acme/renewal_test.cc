#include "acme/renewal.h"

#include <gtest/gtest.h>

namespace ballast::acme {
namespace {

constexpr int64_t kDay = 86400;

TEST(RenewalTest, RenewsAThirdOfTheLifetimeBeforeExpiry) {
  // A 90-day certificate: renewed with 30 days left (Let's Encrypt's advice).
  EXPECT_EQ(renewal_time(1000, 1000 + 90 * kDay, 0, 0.0), 1000 + 60 * kDay);
  // Jitter takes up to a tenth of that margin off, never more.
  EXPECT_NEAR(renewal_time(1000, 1000 + 90 * kDay, 0, 0.999999), 1000 + 57 * kDay, 1);
  EXPECT_GT(renewal_time(1000, 1000 + 90 * kDay, 0, 0.5), 1000 + 57 * kDay);
  // A configured margin wins over the third.
  EXPECT_EQ(renewal_time(0, 90 * kDay, 10 * kDay, 0.0), 80 * kDay);
  // A certificate whose dates are backwards is renewed at its expiry at the latest.
  EXPECT_EQ(renewal_time(100, 50, 0, 0.0), 50);
}

TEST(RenewalTest, FailuresWaitLongerEachTimeUpToSixHours) {
  EXPECT_EQ(retry_delay_s(1, 0.0), 60);
  EXPECT_EQ(retry_delay_s(2, 0.0), 120);
  EXPECT_EQ(retry_delay_s(3, 0.0), 240);
  EXPECT_EQ(retry_delay_s(9, 0.0), 15360);
  EXPECT_EQ(retry_delay_s(10, 0.0), 6 * 3600);
  EXPECT_EQ(retry_delay_s(1000, 0.0), 6 * 3600);
  // Jitter takes at most a tenth off, so a fleet that failed together spreads out.
  EXPECT_EQ(retry_delay_s(1, 0.999999), 55);
  EXPECT_GE(retry_delay_s(1000, 0.999999), 6 * 3600 * 9 / 10);
}

}  // namespace
}  // namespace ballast::acme
