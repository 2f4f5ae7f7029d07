#include "core/cron.h"

#include <gtest/gtest.h>

#include "core/time_zone.h"

namespace ballast::core {
namespace {

std::tm at(int year, int month, int day, int hour, int minute) {
  std::tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = month - 1;
  t.tm_mday = day;
  t.tm_hour = hour;
  t.tm_min = minute;
  time_t s = timegm(&t);
  gmtime_r(&s, &t);  // fills in the weekday
  return t;
}

TEST(CronTest, FieldsListsRangesAndSteps) {
  std::string error;
  auto s = CronSchedule::parse("*/15 9-17 * * mon-fri", &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->matches(at(2026, 11, 23, 9, 30)));  // a Monday
  EXPECT_FALSE(s->matches(at(2026, 11, 23, 9, 31)));
  EXPECT_FALSE(s->matches(at(2026, 11, 22, 9, 30)));  // a Sunday
  EXPECT_FALSE(s->matches(at(2026, 11, 23, 18, 0)));
  auto list = CronSchedule::parse("0,30 8 1 jan,jul *", &error);
  ASSERT_TRUE(list) << error;
  EXPECT_TRUE(list->matches(at(2026, 7, 1, 8, 30)));
  EXPECT_FALSE(list->matches(at(2026, 8, 1, 8, 30)));
}

TEST(CronTest, BothDayFieldsRestrictedMeansEither) {
  std::string error;
  auto s = CronSchedule::parse("0 0 13 * 5", &error);  // the 13th, or any Friday
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->matches(at(2026, 11, 13, 0, 0)));
  EXPECT_TRUE(s->matches(at(2026, 11, 20, 0, 0)));  // a Friday
  EXPECT_FALSE(s->matches(at(2026, 11, 21, 0, 0)));
  auto sunday = CronSchedule::parse("0 0 * * 7", &error);
  ASSERT_TRUE(sunday);
  EXPECT_TRUE(sunday->matches(at(2026, 11, 22, 0, 0))) << "7 is Sunday too";
}

TEST(CronTest, ErrorsSayWhichFieldAndWhy) {
  std::string error;
  EXPECT_FALSE(CronSchedule::parse("* * * *", &error));
  EXPECT_NE(error.find("five fields"), std::string::npos);
  EXPECT_FALSE(CronSchedule::parse("60 * * * *", &error));
  EXPECT_NE(error.find("minute"), std::string::npos);
  EXPECT_FALSE(CronSchedule::parse("* * * * fun", &error));
  EXPECT_NE(error.find("day of week"), std::string::npos);
  EXPECT_FALSE(CronSchedule::parse("*/0 * * * *", &error));
  EXPECT_FALSE(CronSchedule::parse("5-1 * * * *", &error));
}

TEST(TimeZoneTest, OffsetsFollowDaylightSavingTime) {
  std::string error;
  auto paris = TimeZone::load("Europe/Paris", &error);
  ASSERT_TRUE(paris) << error;
  EXPECT_EQ(paris->offset_at(1784000000), 7200) << "July 2026: CEST";
  EXPECT_EQ(paris->offset_at(1795000000), 3600) << "November 2026: CET";
  auto ny = TimeZone::load("America/New_York", &error);
  ASSERT_TRUE(ny) << error;
  EXPECT_EQ(ny->offset_at(1795000000), -5 * 3600);
  auto utc = TimeZone::load("UTC", &error);
  ASSERT_TRUE(utc);
  EXPECT_EQ(utc->offset_at(1795000000), 0);
}

TEST(TimeZoneTest, UnknownOrHostileNamesAreErrors) {
  std::string error;
  EXPECT_FALSE(TimeZone::load("Mars/Olympus_Mons", &error));
  EXPECT_NE(error.find("unknown time zone"), std::string::npos);
  EXPECT_FALSE(TimeZone::load("../../etc/passwd", &error));
  EXPECT_FALSE(TimeZone::load("/etc/localtime", &error));
}

}  // namespace
}  // namespace ballast::core
