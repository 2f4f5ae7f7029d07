#include "tls/sni_table.h"

#include <gtest/gtest.h>

namespace ballast::tls {
namespace {

SniTable table() {
  SniTable t;
  t.add(0, {"default.test"});
  t.add(1, {"api.example.com", "www.example.com"});
  t.add(2, {"*.example.com"});
  t.add(3, {"API.example.com", "*.Example.com", "other.test"});  // later: loses shared names
  t.set_default(0);
  return t;
}

TEST(SniTableTest, ExactNamesWinOverWildcards) {
  SniTable t = table();
  EXPECT_EQ(t.pick("api.example.com"), 1u);
  EXPECT_EQ(t.pick("www.example.com"), 1u);
  EXPECT_EQ(t.pick("shop.example.com"), 2u);
}

TEST(SniTableTest, WildcardsCoverOneLabelOnly) {
  SniTable t = table();
  EXPECT_EQ(t.pick("a.b.example.com"), 0u);
  EXPECT_EQ(t.pick("example.com"), 0u);
  EXPECT_FALSE(t.covers("a.b.example.com"));
  EXPECT_FALSE(t.covers(".example.com"));
}

TEST(SniTableTest, NamesCompareWithoutCaseOrTrailingDot) {
  SniTable t = table();
  EXPECT_EQ(t.pick("API.Example.COM"), 1u);
  EXPECT_EQ(t.pick("api.example.com."), 1u);
  EXPECT_EQ(t.pick("Shop.EXAMPLE.com"), 2u);
}

TEST(SniTableTest, UnknownOrMissingNamesGetTheDefault) {
  SniTable t = table();
  EXPECT_EQ(t.pick(""), 0u);
  EXPECT_EQ(t.pick("nobody.test"), 0u);
  t.set_default(3);
  EXPECT_EQ(t.pick("nobody.test"), 3u);
  EXPECT_EQ(t.pick("other.test"), 3u);
}

TEST(SniTableTest, TheFirstCertificateListedKeepsASharedName) {
  SniTable t = table();
  EXPECT_EQ(t.pick("api.example.com"), 1u);
  EXPECT_EQ(t.pick("x.example.com"), 2u);
}

}  // namespace
}  // namespace ballast::tls
