#include "proxy/proxy_protocol.h"

#include <gtest/gtest.h>

namespace ballast::proxy {
namespace {

core::SocketAddress addr(const std::string& text) {
  std::string error;
  return *core::SocketAddress::parse(text, &error, false);
}

TEST(ProxyProtocolTest, ReadsVersion1) {
  std::string bytes = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
  ProxyHeader h = parse_proxy_header(bytes);
  ASSERT_EQ(h.status, ProxyHeader::Status::kComplete) << h.error;
  EXPECT_EQ(h.length, bytes.find("GET"));
  EXPECT_EQ(h.source->to_string(), "192.0.2.7:56324");
  EXPECT_EQ(h.destination->to_string(), "198.51.100.1:443");
  h = parse_proxy_header("PROXY TCP6 2001:db8::7 2001:db8::1 1000 80\r\n");
  ASSERT_EQ(h.status, ProxyHeader::Status::kComplete) << h.error;
  EXPECT_EQ(h.source->to_string(), "[2001:db8::7]:1000");
  h = parse_proxy_header("PROXY UNKNOWN whatever\r\n");
  ASSERT_EQ(h.status, ProxyHeader::Status::kComplete);
  EXPECT_FALSE(h.source) << "UNKNOWN: the connection's own address stands";
}

TEST(ProxyProtocolTest, WaitsForTheWholeHeader) {
  std::string full = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n";
  for (size_t n = 0; n < full.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(full.substr(0, n)).status, ProxyHeader::Status::kNeedMore) << n;
  }
  std::string v2 = proxy_header_v2(addr("192.0.2.7:1"), addr("198.51.100.1:2"));
  for (size_t n = 0; n < v2.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(v2.substr(0, n)).status, ProxyHeader::Status::kNeedMore) << n;
  }
}

TEST(ProxyProtocolTest, RefusesWhatIsNotAHeader) {
  for (const char* bad :
       {"GET / HTTP/1.1\r\n", "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",
        "PROXY TCP4 not-an-ip 198.51.100.1 1 2\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 70000 2\r\n",
        "PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n", "PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",
        "PROXY TCP5 192.0.2.7 198.51.100.1 1 2\r\n"}) {
    EXPECT_EQ(parse_proxy_header(bad).status, ProxyHeader::Status::kInvalid) << bad;
  }
  std::string long_line = "PROXY TCP4 " + std::string(120, '1');
  EXPECT_EQ(parse_proxy_header(long_line).status, ProxyHeader::Status::kInvalid);
  std::string v3 = proxy_header_v2(addr("192.0.2.7:1"), addr("198.51.100.1:2"));
  v3[12] = 0x31;
  EXPECT_EQ(parse_proxy_header(v3).status, ProxyHeader::Status::kInvalid);
}

TEST(ProxyProtocolTest, WritesWhatItReads) {
  for (const auto& [src, dst] : std::vector<std::pair<std::string, std::string>>{
           {"192.0.2.7:56324", "198.51.100.1:443"}, {"[2001:db8::7]:1000", "[2001:db8::1]:80"}}) {
    for (bool v2 : {false, true}) {
      std::string bytes =
          v2 ? proxy_header_v2(addr(src), addr(dst)) : proxy_header_v1(addr(src), addr(dst));
      ProxyHeader h = parse_proxy_header(bytes + "rest");
      ASSERT_EQ(h.status, ProxyHeader::Status::kComplete) << h.error;
      EXPECT_EQ(h.length, bytes.size());
      EXPECT_EQ(h.source->to_string(), src);
      EXPECT_EQ(h.destination->to_string(), dst);
    }
  }
  EXPECT_EQ(proxy_header_v1(addr("192.0.2.7:56324"), addr("198.51.100.1:443")),
            "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n");
}

TEST(ProxyProtocolTest, Version2LocalAndTlvs) {
  std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  ProxyHeader h = parse_proxy_header(local);
  ASSERT_EQ(h.status, ProxyHeader::Status::kComplete);
  EXPECT_FALSE(h.source) << "LOCAL: a health check from the proxy itself";
  // TLVs after the addresses are skipped with the length.
  std::string v2 = proxy_header_v2(addr("192.0.2.7:1"), addr("198.51.100.1:2"));
  v2[15] = static_cast<char>(12 + 7);
  v2 += std::string(
      "\x04\x00\x04"
      "abcd",
      7);
  h = parse_proxy_header(v2 + "GET");
  ASSERT_EQ(h.status, ProxyHeader::Status::kComplete);
  EXPECT_EQ(h.length, v2.size());
  EXPECT_EQ(h.source->to_string(), "192.0.2.7:1");
}

}  // namespace
}  // namespace ballast::proxy
