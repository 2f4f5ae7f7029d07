#include "proxy/hash_key.h"

#include <gtest/gtest.h>

#include "lb/hash.h"

namespace ballast::proxy {
namespace {

http::MessageHead request(std::vector<http::Header> headers, std::string_view target = "/a?b") {
  http::MessageHead h;
  h.method = "GET";
  h.target = target;
  h.headers = std::move(headers);
  return h;
}

TEST(HashKeyTest, FindsCookies) {
  std::string_view v;
  EXPECT_TRUE(find_cookie("a=1; sid=xyz; b=2", "sid", &v));
  EXPECT_EQ(v, "xyz");
  EXPECT_TRUE(find_cookie("sid=", "sid", &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(find_cookie("xsid=1; sidx=2", "sid", &v));
  EXPECT_FALSE(find_cookie("", "sid", &v));
}

TEST(HashKeyTest, HashesTheConfiguredKeyAndFallsBackToTheClientAddress) {
  using Kind = config::HashOn::Kind;
  auto h = request({{"X-User", "alice"}, {"Cookie", "theme=dark; sid=s1"}});
  const uint64_t ip = lb::hash_bytes("192.0.2.1");
  EXPECT_EQ(request_hash({Kind::kSourceIp, ""}, h, "192.0.2.1"), ip);
  EXPECT_EQ(request_hash({Kind::kHeader, "x-user"}, h, "192.0.2.1"), lb::hash_bytes("alice"));
  EXPECT_EQ(request_hash({Kind::kCookie, "sid"}, h, "192.0.2.1"), lb::hash_bytes("s1"));
  EXPECT_EQ(request_hash({Kind::kPath, ""}, h, "192.0.2.1"), lb::hash_bytes("/a"))
      << "the query is not part of the path";
  EXPECT_EQ(request_hash({Kind::kHeader, "x-missing"}, h, "192.0.2.1"), ip);
  EXPECT_EQ(request_hash({Kind::kCookie, "missing"}, h, "192.0.2.1"), ip);
}

}  // namespace
}  // namespace ballast::proxy
