#include "db/lag_clock.h"

#include <gtest/gtest.h>

namespace ballast::db {
namespace {

TEST(LagClockTest, AReplicaAtThePrimarysPositionIsNotBehind) {
  LagClock c;
  c.sample(1000, 0);
  EXPECT_EQ(c.lag_ms(1000, 5000), 0);
  EXPECT_EQ(c.lag_ms(2000, 5000), 0);
}

TEST(LagClockTest, AnIdlePrimaryMakesNoLag) {
  LagClock c;
  for (int64_t t = 0; t <= 60000; t += 250) c.sample(1000, t);
  EXPECT_EQ(c.lag_ms(1000, 60000), 0);
}

TEST(LagClockTest, TheLagIsTheTimeSinceThePrimaryWentPastTheReplay) {
  LagClock c;
  c.sample(1000, 0);
  c.sample(2000, 1000);
  c.sample(3000, 2000);
  c.sample(3000, 3000);
  EXPECT_EQ(c.lag_ms(1000, 3000), 2000);  // the primary passed 1000 by t=1000
  EXPECT_EQ(c.lag_ms(1500, 3000), 2000);
  EXPECT_EQ(c.lag_ms(2000, 3000), 1000);
  EXPECT_EQ(c.lag_ms(2999, 3500), 1500);
  EXPECT_EQ(c.lag_ms(3000, 3500), 0);
}

TEST(LagClockTest, HistoryIsBoundedByTheWindow) {
  LagClock c;
  for (int64_t t = 0; t <= 2 * LagClock::kWindowMs; t += 1000) {
    c.sample(static_cast<uint64_t>(t) + 1, t);
  }
  // Positions older than the window read as the window's age (at least).
  int64_t now = 2 * LagClock::kWindowMs;
  EXPECT_GE(c.lag_ms(0, now), LagClock::kWindowMs);
  EXPECT_LE(c.lag_ms(0, now), LagClock::kWindowMs + 1000);
}

TEST(LagClockTest, ResetForgetsTheOldTimeline) {
  LagClock c;
  c.sample(5000, 0);
  c.reset();
  c.sample(4000, 1000);
  EXPECT_EQ(c.latest(), 4000u);
  EXPECT_EQ(c.lag_ms(4000, 2000), 0);
}

}  // namespace
}  // namespace ballast::db
