#include "core/ip_range.h"

#include <gtest/gtest.h>

namespace ballast::core {
namespace {

SocketAddress addr(const std::string& text) {
  std::string error;
  return *SocketAddress::parse(text, &error, false);
}

IpRange range(const std::string& text) {
  std::string error;
  auto r = IpRange::parse(text, &error);
  EXPECT_TRUE(r) << error;
  return *r;
}

TEST(IpRangeTest, MatchesByPrefix) {
  IpRange ten = range("10.0.0.0/8");
  EXPECT_TRUE(ten.contains(addr("10.200.3.4:80")));
  EXPECT_FALSE(ten.contains(addr("11.0.0.1:80")));
  IpRange odd = range("192.168.4.0/22");
  EXPECT_TRUE(odd.contains(addr("192.168.7.255:1")));
  EXPECT_FALSE(odd.contains(addr("192.168.8.0:1")));
  EXPECT_TRUE(range("0.0.0.0/0").contains(addr("203.0.113.9:1")));
  EXPECT_TRUE(range("127.0.0.1").contains(addr("127.0.0.1:5")));
  EXPECT_FALSE(range("127.0.0.1").contains(addr("127.0.0.2:5")));
}

TEST(IpRangeTest, Ipv6AndMappedIpv4) {
  IpRange doc = range("2001:db8::/32");
  EXPECT_TRUE(doc.contains(addr("[2001:db8:1::5]:443")));
  EXPECT_FALSE(doc.contains(addr("[2001:db9::5]:443")));
  EXPECT_FALSE(doc.contains(addr("10.0.0.1:1")));
  EXPECT_TRUE(range("10.0.0.0/8").contains(addr("[::ffff:10.1.2.3]:80")));
}

TEST(IpRangeTest, SaysWhatIsWrong) {
  std::string error;
  EXPECT_FALSE(IpRange::parse("10.0.0.0/33", &error));
  EXPECT_NE(error.find("longer than the 32 bits"), std::string::npos) << error;
  EXPECT_FALSE(IpRange::parse("10.0.0/8", &error));
  EXPECT_NE(error.find("not an address range"), std::string::npos) << error;
  EXPECT_FALSE(IpRange::parse("10.0.0.0/x", &error));
  EXPECT_NE(error.find("invalid prefix length"), std::string::npos) << error;
}

}  // namespace
}  // namespace ballast::core
