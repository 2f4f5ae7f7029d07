#include "cache/key_policy.h"

#include <gtest/gtest.h>

namespace ballast::cache {
namespace {

std::string key(const KeyPolicy& p, std::string_view host, std::string_view target,
                const std::vector<http::Header>& headers = {}) {
  std::string out = "left over from the last request";
  build_key(p, host, target, headers, out);
  return out;
}

TEST(KeyPolicyTest, HostIsCaseInsensitiveAndPathIsNot) {
  KeyPolicy p;
  EXPECT_EQ(key(p, "Example.COM", "/A?x=1"), "example.com/A?x=1");
  EXPECT_NE(key(p, "example.com", "/a"), key(p, "example.com", "/A"));
}

TEST(KeyPolicyTest, QueryAllNoneOnlyExcept) {
  KeyPolicy p;
  EXPECT_EQ(key(p, "h", "/p?b=2&a=1"), "h/p?b=2&a=1");
  p.query = KeyPolicy::Query::kNone;
  EXPECT_EQ(key(p, "h", "/p?b=2&a=1"), "h/p");
  p.query = KeyPolicy::Query::kOnly;
  p.query_names = {"a", "c"};
  EXPECT_EQ(key(p, "h", "/p?b=2&a=1&c&utm=x"), "h/p?a=1&c");
  EXPECT_EQ(key(p, "h", "/p?b=2"), "h/p");
  p.query = KeyPolicy::Query::kExcept;
  p.query_names = {"utm_source", "fbclid"};
  EXPECT_EQ(key(p, "h", "/p?utm_source=mail&id=7&fbclid=z"), "h/p?id=7");
  EXPECT_EQ(key(p, "h", "/p?id=7&&"), "h/p?id=7");
}

TEST(KeyPolicyTest, HeadersAndCookiesJoinTheKey) {
  KeyPolicy p;
  p.headers = {"x-device"};
  p.cookies = {"lang"};
  std::vector<http::Header> phone = {{"X-Device", "phone"}, {"Cookie", "a=1; lang=de; b=2"}};
  std::vector<http::Header> tablet = {{"x-device", "tablet"}, {"Cookie", "lang=de"}};
  std::vector<http::Header> none;
  EXPECT_EQ(key(p, "h", "/", phone), "h/\nx-device:phone\ncookie lang=de");
  EXPECT_NE(key(p, "h", "/", phone), key(p, "h", "/", tablet));
  EXPECT_EQ(key(p, "h", "/", none), "h/\nx-device:\ncookie lang=");
  // A cookie's name must match whole: "xlang" is not "lang".
  std::vector<http::Header> other = {{"X-Device", "phone"}, {"Cookie", "xlang=fr"}};
  EXPECT_EQ(key(p, "h", "/", other), "h/\nx-device:phone\ncookie lang=");
}

TEST(KeyPolicyTest, PartsCannotRunIntoEachOther) {
  KeyPolicy p;
  p.headers = {"a"};
  // The value of a header cannot imitate a path, nor a path a header.
  EXPECT_NE(key(p, "h", "/x", {{"a", "1"}}), key(p, "h", "/x\na:1", {}));
}

TEST(KeyPolicyTest, UrlIsHostAndTarget) {
  std::string url;
  build_url("WWW.Example.com", "/a/b?c=d", url);
  EXPECT_EQ(url, "www.example.com/a/b?c=d");
}

}  // namespace
}  // namespace ballast::cache
