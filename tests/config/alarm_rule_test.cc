#include "config/alarm_rule.h"

#include <gtest/gtest.h>

#include <map>

namespace ballast::config {
namespace {

bool eval(const std::string& rule, std::map<std::string, std::string> states) {
  std::string error;
  auto r = AlarmRule::parse(rule, &error);
  EXPECT_TRUE(r) << error;
  if (!r) return false;
  return r->evaluate([&](const std::string& n) { return states[n]; });
}

TEST(AlarmRuleTest, ParsesAndEvaluatesCloudWatchRules) {
  std::map<std::string, std::string> s = {
      {"a", "ALARM"}, {"b", "OK"}, {"c-1", "INSUFFICIENT_DATA"}};
  EXPECT_TRUE(eval("ALARM(a)", s));
  EXPECT_TRUE(eval("ALARM(\"a\") AND OK(b)", s));
  EXPECT_FALSE(eval("ALARM(a) AND ALARM(b)", s));
  EXPECT_TRUE(eval("ALARM(b) OR INSUFFICIENT_DATA(c-1)", s));
  EXPECT_TRUE(eval("NOT ALARM(b)", s));
  EXPECT_TRUE(eval("ALARM(b) OR ALARM(a) AND OK(b)", s)) << "AND binds tighter";
  EXPECT_FALSE(eval("(ALARM(b) OR ALARM(a)) AND ALARM(b)", s));
  EXPECT_TRUE(eval("TRUE", s));
  EXPECT_FALSE(eval("FALSE OR NOT TRUE", s));
  std::string error;
  auto r = AlarmRule::parse("ALARM(a) OR OK(b) AND NOT ALARM(\"c-1\")", &error);
  ASSERT_TRUE(r);
  std::vector<std::string> names;
  r->names(&names);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c-1"}));
}

TEST(AlarmRuleTest, MalformedRulesSayWhere) {
  std::string error;
  EXPECT_FALSE(AlarmRule::parse("ALARM(a) AND", &error));
  EXPECT_EQ(error, "rule, column 13: the rule ends too soon");
  EXPECT_FALSE(AlarmRule::parse("ALARM a", &error));
  EXPECT_EQ(error, "rule, column 7: expected \"(\" after ALARM");
  EXPECT_FALSE(AlarmRule::parse("ALARM(a) XOR OK(b)", &error));
  EXPECT_NE(error.find("column 10"), std::string::npos) << error;
  EXPECT_FALSE(AlarmRule::parse("(ALARM(a)", &error));
  EXPECT_NE(error.find("expected \")\""), std::string::npos) << error;
}

}  // namespace
}  // namespace ballast::config
