#include "http/headers.h"

#include <gtest/gtest.h>

namespace ballast::http {
namespace {

TEST(HeadersTest, CaseInsensitiveEquality) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_FALSE(iequals("Content-Length", "content-lengt"));
  EXPECT_FALSE(iequals("a", "b"));
}

TEST(HeadersTest, ListContainsToken) {
  EXPECT_TRUE(list_contains_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(list_contains_token("  close  ", "close"));
  EXPECT_TRUE(list_contains_token("a,,b", "b"));
  EXPECT_FALSE(list_contains_token("keep-alive-ish", "keep-alive"));
  EXPECT_FALSE(list_contains_token("", "close"));
}

TEST(HeadersTest, HopByHop) {
  for (const char* name : {"Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding",
                           "Upgrade", "Proxy-Authorization", "proxy-connection"}) {
    EXPECT_TRUE(is_hop_by_hop(name, "")) << name;
  }
  EXPECT_FALSE(is_hop_by_hop("Content-Type", ""));
  EXPECT_FALSE(is_hop_by_hop("Authorization", ""));
  EXPECT_TRUE(is_hop_by_hop("X-Secret", "close, x-secret"));
}

TEST(HeadersTest, TrimOws) {
  EXPECT_EQ(trim_ows(" \t a b \t"), "a b");
  EXPECT_EQ(trim_ows("   "), "");
}

}  // namespace
}  // namespace ballast::http
