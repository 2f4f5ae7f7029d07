#include "health/outlier_detector.h"

#include <gtest/gtest.h>

namespace ballast::health {
namespace {

config::OutlierDetectionConfig cfg(uint32_t consecutive, uint32_t max_percent = 50) {
  config::OutlierDetectionConfig c;
  c.enabled = true;
  c.consecutive_failures = consecutive;
  c.base_ejection_ms = 1000;
  c.max_ejection_ms = 3000;
  c.max_ejection_percent = max_percent;
  return c;
}

TEST(OutlierDetectorTest, ConsecutiveFailuresEjectAndSuccessesReset) {
  OutlierDetector d(cfg(3), 4);
  EXPECT_FALSE(d.record(0, true, 0));
  EXPECT_FALSE(d.record(0, true, 0));
  EXPECT_FALSE(d.record(0, false, 0)) << "a success resets the count";
  EXPECT_FALSE(d.record(0, true, 0));
  EXPECT_FALSE(d.record(0, true, 0));
  EXPECT_TRUE(d.record(0, true, 10));
  EXPECT_TRUE(d.ejected(0));
  EXPECT_EQ(d.next_readmit_ms(), 1010);
}

TEST(OutlierDetectorTest, EjectionsGrowAndAreCapped) {
  OutlierDetector d(cfg(1), 2);
  int64_t now = 0;
  std::vector<int64_t> lengths;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(d.record(0, true, now));
    lengths.push_back(d.ejection_ms(0));
    EXPECT_FALSE(d.readmit(now + d.ejection_ms(0) - 1));
    now += d.ejection_ms(0);
    EXPECT_TRUE(d.readmit(now));
    EXPECT_FALSE(d.ejected(0));
  }
  EXPECT_EQ(lengths, (std::vector<int64_t>{1000, 2000, 3000, 3000}));
  // Clean for max_ejection_time: back to the base time.
  d.record(0, false, now + 3000);
  ASSERT_TRUE(d.record(0, true, now + 3001));
  EXPECT_EQ(d.ejection_ms(0), 1000);
}

TEST(OutlierDetectorTest, MaxEjectionPercentBoundsEjectionsButAllowsOne) {
  OutlierDetector d(cfg(1, 10), 4);  // 10% of 4 is 0.4: still one may go
  EXPECT_TRUE(d.record(0, true, 0));
  EXPECT_FALSE(d.record(1, true, 0));
  EXPECT_FALSE(d.ejected(1));
  EXPECT_EQ(d.ejected_count(), 1u);
  OutlierDetector half(cfg(1, 50), 4);
  EXPECT_TRUE(half.record(0, true, 0));
  EXPECT_TRUE(half.record(1, true, 0));
  EXPECT_FALSE(half.record(2, true, 0));
}

TEST(OutlierDetectorTest, FailuresWhileEjectedDoNotExtendIt) {
  OutlierDetector d(cfg(1), 2);
  ASSERT_TRUE(d.record(0, true, 0));
  EXPECT_FALSE(d.record(0, true, 500));
  EXPECT_EQ(d.next_readmit_ms(), 1000);
}

}  // namespace
}  // namespace ballast::health
