#include "nat/nat_ruleset.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace ballast::nat {
namespace {

using test::address_of;

TEST(NatRulesetTest, TheTableIsOwnedAndHasTheThreeNatHooks) {
  std::string s = table_script("ballast_7");
  EXPECT_NE(s.find("add table inet ballast_7 { flags owner; }"), std::string::npos) << s;
  EXPECT_NE(s.find("prerouting { type nat hook prerouting priority -100;"), std::string::npos);
  EXPECT_NE(s.find("output { type nat hook output priority -100;"), std::string::npos);
  EXPECT_NE(s.find("postrouting { type nat hook postrouting priority 100;"), std::string::npos);
}

TEST(NatRulesetTest, ALoopbackPrimaryGetsOneOutputRule) {
  NatRoute r{"w_main", address_of("127.0.0.1:6432"), address_of("127.0.0.1:5433"),
             NatReach::kLocalClients};
  std::string s = routes_script("t", {r}, {}, {});
  EXPECT_EQ(s,
            "flush chain inet t prerouting\n"
            "flush chain inet t output\n"
            "flush chain inet t postrouting\n"
            "add counter inet t w_main\n"
            "add rule inet t output ip daddr 127.0.0.1 tcp dport 6432 counter name w_main dnat ip "
            "to 127.0.0.1:5433\n");
}

TEST(NatRulesetTest, APrimaryElsewhereIsReachedFromOtherHostsAndAnswersThroughThisOne) {
  NatRoute r{"w_main", address_of("0.0.0.0:6432"), address_of("10.0.0.11:5432"),
             NatReach::kAllClients};
  std::string s = routes_script("t", {r}, {"w_main", "w_other"}, {"w_gone"});
  // A counter kept and used by a route is added once.
  std::string add = "add counter inet t w_main\n";
  EXPECT_EQ(s.find(add), s.rfind(add)) << s;
  std::string rule =
      "fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 6432 counter name w_main dnat ip to "
      "10.0.0.11:5432\n";
  EXPECT_NE(s.find("add rule inet t output " + rule), std::string::npos) << s;
  EXPECT_NE(s.find("add rule inet t prerouting " + rule), std::string::npos) << s;
  EXPECT_NE(s.find("add rule inet t postrouting meta l4proto tcp ct status dnat ct original "
                   "proto-dst 6432 ip daddr 10.0.0.11 tcp dport 5432 oifname != \"lo\" "
                   "masquerade\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("add counter inet t w_other\n"), std::string::npos) << s;
  EXPECT_NE(s.find("delete counter inet t w_gone\n"), std::string::npos) << s;
  // Counters are deleted only after the rules that used them were flushed.
  EXPECT_LT(s.find("flush chain inet t output"), s.find("delete counter"));
}

TEST(NatRulesetTest, Ipv6RoutesUseIp6Matches) {
  NatRoute r{"w_v6", address_of("[fd00::5]:6432"), address_of("[fd00::11]:5432"),
             NatReach::kLocalClients};
  std::string s = routes_script("t", {r}, {}, {});
  EXPECT_NE(s.find("add rule inet t output ip6 daddr fd00::5 tcp dport 6432 counter name w_v6 "
                   "dnat ip6 to [fd00::11]:5432\n"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.find("prerouting ip6"), std::string::npos) << s;  // local clients only
  EXPECT_NE(s.find("ct original ip6 daddr fd00::5"), std::string::npos) << s;
}

}  // namespace
}  // namespace ballast::nat
