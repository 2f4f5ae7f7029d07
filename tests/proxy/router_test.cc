#include "proxy/router.h"

#include <gtest/gtest.h>

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

TEST(RouterTest, PathAndHostHelpers) {
  EXPECT_EQ(path_of("/a/b?c=d"), "/a/b");
  EXPECT_EQ(path_of("/a"), "/a");
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("[::1]:8080"), "[::1]");
  EXPECT_EQ(host_without_port("example.com"), "example.com");
}

TEST(RouterTest, FirstMatchingRuleWins) {
  std::vector<config::RuleConfig> rules = {
      rule(std::nullopt, "/api/"),
      rule("static.example.com", std::nullopt),
      rule(std::nullopt, std::nullopt, "/exact"),
      rule(std::nullopt, std::nullopt),
  };
  EXPECT_EQ(route(rules, "x", "/api/users?id=1"), 0);
  EXPECT_EQ(route(rules, "STATIC.example.com:80", "/img.png"), 1);
  EXPECT_EQ(route(rules, "x", "/exact?q"), 2);
  EXPECT_EQ(route(rules, "x", "/exact/more"), 3);
  rules.pop_back();
  EXPECT_EQ(route(rules, "x", "/other"), -1);
}

TEST(RouterTest, WildcardHost) {
  auto r = rule("*.example.com", std::nullopt);
  EXPECT_TRUE(rule_matches(r.match, "a.example.com", "/"));
  EXPECT_TRUE(rule_matches(r.match, "a.b.example.com", "/"));
  EXPECT_FALSE(rule_matches(r.match, "example.com", "/"));
  EXPECT_FALSE(rule_matches(r.match, "aexample.com", "/"));
}

}  // namespace
}  // namespace ballast::proxy
