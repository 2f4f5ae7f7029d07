#include "cache/cache_control.h"

#include <gtest/gtest.h>

namespace ballast::cache {
namespace {

TEST(CacheControlTest, ReadsTheDirectivesOfRfc9111And5861) {
  CacheControl c = CacheControl::parse(
      "public, max-age=60, s-maxage=\"120\", stale-while-revalidate=30, stale-if-error=600, "
      "must-revalidate, proxy-revalidate, no-transform, immutable");
  EXPECT_TRUE(c.has(Directive::kPublic));
  EXPECT_EQ(c.max_age, 60);
  EXPECT_EQ(c.s_maxage, 120) << "quoted values are read too";
  EXPECT_EQ(c.stale_while_revalidate, 30);
  EXPECT_EQ(c.stale_if_error, 600);
  EXPECT_TRUE(c.has(Directive::kMustRevalidate));
  EXPECT_TRUE(c.has(Directive::kProxyRevalidate));
  EXPECT_TRUE(c.has(Directive::kNoTransform));
  EXPECT_TRUE(c.has(Directive::kImmutable));
  EXPECT_FALSE(c.has(Directive::kNoStore));
  EXPECT_FALSE(c.has(Directive::kPrivate));
}

TEST(CacheControlTest, RequestDirectives) {
  CacheControl c = CacheControl::parse("no-cache, max-stale, min-fresh=5, only-if-cached");
  EXPECT_TRUE(c.has(Directive::kNoCache));
  EXPECT_TRUE(c.has(Directive::kMaxStaleAny));
  EXPECT_FALSE(c.max_stale.has_value());
  EXPECT_EQ(c.min_fresh, 5);
  EXPECT_TRUE(c.has(Directive::kOnlyIfCached));
  c = CacheControl::parse("max-stale=10");
  EXPECT_EQ(c.max_stale, 10);
  EXPECT_FALSE(c.has(Directive::kMaxStaleAny));
}

TEST(CacheControlTest, NamesAnyCaseSpacesAndSeveralLines) {
  CacheControl c;
  c.add("  MAX-AGE = 10 ,Private");
  c.add("No-Store");
  EXPECT_EQ(c.max_age, 10);
  EXPECT_TRUE(c.has(Directive::kPrivate));
  EXPECT_TRUE(c.has(Directive::kNoStore));
}

TEST(CacheControlTest, QualifiedFormsCountAsUnqualified) {
  CacheControl c = CacheControl::parse(R"(private="Set-Cookie, X-User", no-cache="X-Debug")");
  EXPECT_TRUE(c.has(Directive::kPrivate));
  EXPECT_TRUE(c.has(Directive::kNoCache));
  EXPECT_FALSE(c.max_age.has_value()) << "commas inside quotes are not separators";
}

TEST(CacheControlTest, BadAndRepeatedValues) {
  // The first occurrence counts.
  EXPECT_EQ(CacheControl::parse("max-age=10, max-age=99").max_age, 10);
  // An unreadable lifetime makes the response stale rather than fresh for a guess.
  EXPECT_EQ(CacheControl::parse("max-age=soon").max_age, 0);
  EXPECT_EQ(CacheControl::parse("max-age=-5").max_age, 0);
  EXPECT_EQ(CacheControl::parse("max-age").max_age, 0);
  EXPECT_EQ(CacheControl::parse("s-maxage=1.5").s_maxage, 0);
  // ...and an unreadable stale-* grants nothing.
  EXPECT_FALSE(CacheControl::parse("stale-while-revalidate=x").stale_while_revalidate);
  // Past 31 bits, 2^31 (RFC 9111 1.2.2).
  EXPECT_EQ(CacheControl::parse("max-age=99999999999999999999999").max_age,
            CacheControl::kMaxDelta);
  // Unknown directives and debris are ignored; what follows still counts.
  CacheControl c = CacheControl::parse("foo=bar, ,, =x, \"quoted\", max-age=7 junk, no-store");
  EXPECT_EQ(c.max_age, 7);
  EXPECT_TRUE(c.has(Directive::kNoStore));
  // An unclosed quote ends the field.
  EXPECT_EQ(CacheControl::parse("s-maxage=\"12").s_maxage, 12);
}

TEST(CacheControlTest, DeltaSeconds) {
  EXPECT_EQ(parse_delta_seconds("0"), 0);
  EXPECT_EQ(parse_delta_seconds("0031"), 31);
  EXPECT_EQ(parse_delta_seconds("2147483648"), CacheControl::kMaxDelta);
  EXPECT_EQ(parse_delta_seconds("2147483647"), 2147483647);
  EXPECT_FALSE(parse_delta_seconds(""));
  EXPECT_FALSE(parse_delta_seconds("+1"));
  EXPECT_FALSE(parse_delta_seconds("1 "));
}

}  // namespace
}  // namespace ballast::cache
