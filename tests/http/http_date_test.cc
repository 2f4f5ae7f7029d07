#include "http/http_date.h"

#include <gtest/gtest.h>

namespace ballast::http {
namespace {

constexpr int64_t k1994 = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)

TEST(HttpDateTest, ReadsAllThreeFormsOfRfc9110) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), k1994);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", 1796000000), k1994);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), k1994);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
}

TEST(HttpDateTest, TwoDigitYearsStayWithinFiftyYears) {
  const int64_t now_2026 = 1796000000;
  // "70" is 2070 only if that is no more than 50 years ahead: from 2026 it is, so 2070.
  EXPECT_EQ(parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT", now_2026), 3155760000);
  // "99" would be 2099, more than 50 years ahead: 1999.
  EXPECT_EQ(parse_http_date("Friday, 01-Jan-99 00:00:00 GMT", now_2026), 915148800);
}

TEST(HttpDateTest, RefusesAnythingElse) {
  for (const char* bad :
       {"", "0", "-1", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "2026-12-02T10:00:00Z"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

TEST(HttpDateTest, WritesImfFixdate) {
  EXPECT_EQ(format_http_date(k1994), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date(format_http_date(1796000000)), 1796000000);
}

}  // namespace
}  // namespace ballast::http
