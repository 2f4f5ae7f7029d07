#include "config/units.h"

#include <gtest/gtest.h>

namespace ballast::config {
namespace {

TEST(UnitsTest, Durations) {
  EXPECT_EQ(parse_duration_ms("500ms"), 500);
  EXPECT_EQ(parse_duration_ms("30s"), 30000);
  EXPECT_EQ(parse_duration_ms("5m"), 300000);
  EXPECT_EQ(parse_duration_ms("1h"), 3600000);
  EXPECT_EQ(parse_duration_ms("1d"), 86400000);
  EXPECT_EQ(parse_duration_ms("1m30s"), 90000);
  EXPECT_EQ(parse_duration_ms("0s"), 0);
}

TEST(UnitsTest, DurationsNeedUnits) {
  for (const char* bad : {"30", "", "s", "10x", "-5s", "1.5s", "5 s", "ms", "10sm"}) {
    EXPECT_FALSE(parse_duration_ms(bad)) << bad;
  }
}

TEST(UnitsTest, CommandLineSecondsTakeUnitsOrABareNumber) {
  EXPECT_EQ(parse_command_line_seconds("30s"), 30.0);
  EXPECT_EQ(parse_command_line_seconds("500ms"), 0.5);
  EXPECT_EQ(parse_command_line_seconds("1m30s"), 90.0);
  EXPECT_EQ(parse_command_line_seconds("30"), 30.0);
  EXPECT_EQ(parse_command_line_seconds("0.25"), 0.25);
  for (const char* bad : {"", "-1", "1e300", "nan", "inf", "1..2", ".", "30x", "s", "+5",
                          "99999999999999999999s", "9999999999999"}) {
    EXPECT_EQ(parse_command_line_seconds(bad), std::nullopt) << bad;
  }
}

TEST(UnitsTest, Sizes) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("32KiB"), 32u * 1024);
  EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
  EXPECT_EQ(parse_size("2GiB"), 2ull << 30);
  EXPECT_EQ(parse_size("10kB"), 10000u);
  EXPECT_EQ(parse_size("1MB"), 1000000u);
}

TEST(UnitsTest, StatusMatchers) {
  std::vector<std::pair<int, int>> m;
  std::string error;
  ASSERT_TRUE(parse_status_matcher("200", &m, &error)) << error;
  EXPECT_EQ(m, (std::vector<std::pair<int, int>>{{200, 200}}));
  ASSERT_TRUE(parse_status_matcher("200-399, 404", &m, &error)) << error;
  EXPECT_EQ(m, (std::vector<std::pair<int, int>>{{200, 399}, {404, 404}}));
  for (const char* bad : {"", "2xx", "399-200", "99", "600", "200-", "200,,300"}) {
    EXPECT_FALSE(parse_status_matcher(bad, &m, &error)) << bad;
    EXPECT_NE(error.find("invalid status matcher"), std::string::npos);
  }
}

TEST(UnitsTest, BadSizes) {
  for (const char* bad : {"", "KiB", "1XB", "-1", "1.5MiB", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_size(bad)) << bad;
  }
}

}  // namespace
}  // namespace ballast::config
