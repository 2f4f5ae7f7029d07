#include "proxy/router.h"

#include <gtest/gtest.h>

#include "proxy/local_response.h"

namespace ballast::proxy {
namespace {

config::RuleConfig rule(std::optional<std::string> host, std::optional<std::string> prefix,
                        std::optional<std::string> path = std::nullopt) {
  config::RuleConfig r;
  r.match.host = std::move(host);
  r.match.path_prefix = std::move(prefix);
  r.match.path = std::move(path);
  return r;
}

http::MessageHead request(std::string_view host, std::string_view target,
                          std::string_view method = "GET", std::vector<http::Header> headers = {}) {
  http::MessageHead h;
  h.method = method;
  h.target = target;
  h.host = host;
  h.headers = std::move(headers);
  return h;
}

TEST(RouterTest, PathAndHostHelpers) {
  EXPECT_EQ(path_of("/a/b?c=d"), "/a/b");
  EXPECT_EQ(path_of("/a"), "/a");
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:8080"), "[::1]");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  std::string_view v;
  EXPECT_TRUE(find_query_param("/p?a=1&version=2&flag", "version", &v));
  EXPECT_EQ(v, "2");
  EXPECT_TRUE(find_query_param("/p?a=1&version=2&flag", "flag", &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(find_query_param("/p?aversion=2", "version", &v));
  EXPECT_FALSE(find_query_param("/p", "a", &v));
}

TEST(RouterTest, FirstMatchingRuleWins) {
  std::vector<config::RuleConfig> rules = {
      rule(std::nullopt, "/api/"),
      rule("static.example.com", std::nullopt),
      rule(std::nullopt, std::nullopt, "/exact"),
      rule(std::nullopt, std::nullopt),
  };
  EXPECT_EQ(route(rules, request("x", "/api/users?id=1")), 0);
  EXPECT_EQ(route(rules, request("STATIC.example.com:80", "/img.png")), 1);
  EXPECT_EQ(route(rules, request("x", "/exact?q")), 2);
  EXPECT_EQ(route(rules, request("x", "/exact/more")), 3);
  rules.pop_back();
  EXPECT_EQ(route(rules, request("x", "/other")), -1);
}

TEST(RouterTest, WildcardHost) {
  auto r = rule("*.example.com", std::nullopt);
  EXPECT_TRUE(rule_matches(r.match, request("a.example.com", "/")));
  EXPECT_TRUE(rule_matches(r.match, request("a.b.example.com", "/")));
  EXPECT_FALSE(rule_matches(r.match, request("example.com", "/")));
  EXPECT_FALSE(rule_matches(r.match, request("aexample.com", "/")));
}

TEST(RouterTest, MethodHeaderQueryAndRegex) {
  config::RuleMatch m;
  m.methods = {"GET", "HEAD"};
  m.headers = {{"x-canary", "1"}};
  m.query = {{"v", "2"}};
  m.path_regex = std::make_shared<const std::regex>("/items/[0-9]+");
  auto ok = request("x", "/items/42?v=2", "GET", {{"X-Canary", "1"}});
  EXPECT_TRUE(rule_matches(m, ok));
  EXPECT_FALSE(rule_matches(m, request("x", "/items/42?v=2", "POST", {{"X-Canary", "1"}})));
  EXPECT_FALSE(rule_matches(m, request("x", "/items/42?v=2", "GET", {{"X-Canary", "0"}})));
  EXPECT_FALSE(rule_matches(m, request("x", "/items/42?v=3", "GET", {{"X-Canary", "1"}})));
  EXPECT_FALSE(rule_matches(m, request("x", "/items/4a?v=2", "GET", {{"X-Canary", "1"}})));
  EXPECT_FALSE(rule_matches(m, request("x", "/items/42/x?v=2", "GET", {{"X-Canary", "1"}})))
      << "the regex must match the whole path";
}

TEST(RouterTest, RedirectLocationTemplates) {
  EXPECT_EQ(expand_location("https://#{host}#{path}?#{query}", "example.com:8080", "/a/b?x=1", 80),
            "https://example.com/a/b?x=1");
  EXPECT_EQ(expand_location("https://#{host}#{path}?#{query}", "example.com", "/a", 80),
            "https://example.com/a")
      << "no dangling ? without a query";
  EXPECT_EQ(
      expand_location("#{protocol}://new.example.com:#{port}/", "old.example.com:8443", "/", 80),
      "http://new.example.com:8443/");
  EXPECT_EQ(expand_location("/login", "h", "/x", 80), "/login");
}

}  // namespace
}  // namespace ballast::proxy
