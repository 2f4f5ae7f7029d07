#include "core/socket_address.h"

#include <gtest/gtest.h>

namespace ballast::core {
namespace {

TEST(SocketAddressTest, ParsesIpv4AndIpv6) {
  std::string error;
  auto v4 = SocketAddress::parse("127.0.0.1:8080", &error);
  ASSERT_TRUE(v4) << error;
  EXPECT_EQ(v4->family(), AF_INET);
  EXPECT_EQ(v4->port(), 8080);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:8080");
  EXPECT_EQ(v4->ip_string(), "127.0.0.1");

  auto v6 = SocketAddress::parse("[::1]:443", &error);
  ASSERT_TRUE(v6) << error;
  EXPECT_EQ(v6->family(), AF_INET6);
  EXPECT_EQ(v6->to_string(), "[::1]:443");
  EXPECT_EQ(v6->ip_string(), "::1");
}

TEST(SocketAddressTest, WildcardForms) {
  std::string error;
  for (const char* text : {"*:80", ":80", "0.0.0.0:80"}) {
    auto a = SocketAddress::parse(text, &error);
    ASSERT_TRUE(a) << text << ": " << error;
    EXPECT_TRUE(a->is_wildcard()) << text;
    EXPECT_EQ(a->port(), 80);
  }
}

TEST(SocketAddressTest, ResolvesLocalhostOnlyWhenAllowed) {
  std::string error;
  auto a = SocketAddress::parse("localhost:9000", &error);
  ASSERT_TRUE(a) << error;
  EXPECT_EQ(a->port(), 9000);
  EXPECT_FALSE(SocketAddress::parse("localhost:9000", &error, /*resolve=*/false));
}

TEST(SocketAddressTest, RejectsMalformedWithAReason) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:80a", "127.0.0.1:65536", "[::1:80",
                           "[::1]80", "", "1.2.3.4:-1"}) {
    std::string error;
    EXPECT_FALSE(SocketAddress::parse(text, &error, false)) << text;
    EXPECT_FALSE(error.empty()) << text;
  }
}

TEST(SocketAddressTest, WithPort) {
  std::string error;
  EXPECT_EQ(SocketAddress::parse("10.1.2.3:80", &error)->with_port(8081).to_string(),
            "10.1.2.3:8081");
  EXPECT_EQ(SocketAddress::parse("[::1]:80", &error)->with_port(9).to_string(), "[::1]:9");
}

TEST(SocketAddressTest, Equality) {
  std::string error;
  EXPECT_EQ(*SocketAddress::parse("127.0.0.1:1", &error),
            *SocketAddress::parse("127.0.0.1:1", &error));
  EXPECT_FALSE(*SocketAddress::parse("127.0.0.1:1", &error) ==
               *SocketAddress::parse("127.0.0.1:2", &error));
}

}  // namespace
}  // namespace ballast::core
