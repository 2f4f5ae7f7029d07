#include "scale/zone_health.h"

#include <gtest/gtest.h>

namespace ballast::scale {
namespace {

TEST(ZoneHealthTest, AFailingZoneIsAvoidedLongerEachTimeUntilItServes) {
  ZoneHealth z;
  std::vector<std::string> zones = {"a", "b", "c"};
  EXPECT_EQ(z.usable(zones, 0), zones);
  z.failed("a", "a launch failed", 0);
  EXPECT_TRUE(z.impaired("a", ZoneHealth::kFirstMs - 1));
  EXPECT_FALSE(z.impaired("a", ZoneHealth::kFirstMs));
  EXPECT_EQ(z.usable(zones, 1000), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(z.clean("a")) << "until an instance serves there";
  z.failed("a", "again", ZoneHealth::kFirstMs);
  EXPECT_TRUE(z.impaired("a", 3 * ZoneHealth::kFirstMs - 1)) << "twice as long";
  for (int k = 0; k < 10; ++k) z.failed("a", "again", 0);
  EXPECT_FALSE(z.impaired("a", ZoneHealth::kLongestMs)) << "bounded";
  z.served("a");
  EXPECT_TRUE(z.clean("a"));
  EXPECT_FALSE(z.impaired("a", 0));
}

TEST(ZoneHealthTest, WhenEveryZoneFailsLaunchesStillHaveSomewhereToGo) {
  ZoneHealth z;
  z.failed("a", "x", 0);
  z.failed("b", "y", 0);
  EXPECT_EQ(z.usable({"a", "b"}, 1), (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(z.impaired_now(1).size(), 2u);
  EXPECT_EQ(z.impaired_now(1)[1].why, "y");
}

}  // namespace
}  // namespace ballast::scale
