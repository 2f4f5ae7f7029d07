#include "nat/nat_plan.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace ballast::nat {
namespace {

using test::address_of;

TEST(NatPlanTest, APrimaryOnTheLoopbackIsReachedFromTheLoopbackOnly) {
  EXPECT_EQ(plan_nat(address_of("127.0.0.1:6432"), address_of("127.0.0.1:5432"), true).reach,
            NatReach::kLocalClients);
  NatPlan wildcard = plan_nat(address_of("0.0.0.0:6432"), address_of("127.0.0.1:5432"), true);
  EXPECT_EQ(wildcard.reach, NatReach::kLocalClients);
  EXPECT_NE(wildcard.why.find("connections to other addresses than the loopback are relayed"),
            std::string::npos)
      << wildcard.why;
  NatPlan elsewhere = plan_nat(address_of("10.0.0.5:6432"), address_of("127.0.0.1:5432"), true);
  EXPECT_EQ(elsewhere.reach, NatReach::kNone);
  EXPECT_NE(elsewhere.why.find("the bind 10.0.0.5:6432 is not"), std::string::npos)
      << elsewhere.why;
  EXPECT_EQ(plan_nat(address_of("[::1]:6432"), address_of("[::1]:5432"), false).reach,
            NatReach::kLocalClients);
}

TEST(NatPlanTest, APrimaryElsewhereNeedsANonLoopbackBindAndForwardingForOtherHosts) {
  EXPECT_EQ(plan_nat(address_of("10.0.0.5:6432"), address_of("10.0.0.11:5432"), true).reach,
            NatReach::kAllClients);
  NatPlan no_forwarding =
      plan_nat(address_of("10.0.0.5:6432"), address_of("10.0.0.11:5432"), false);
  EXPECT_EQ(no_forwarding.reach, NatReach::kLocalClients);
  EXPECT_NE(no_forwarding.why.find("does not forward packets"), std::string::npos);
  NatPlan loopback_bind =
      plan_nat(address_of("127.0.0.1:6432"), address_of("10.0.0.11:5432"), true);
  EXPECT_EQ(loopback_bind.reach, NatReach::kNone);
  EXPECT_NE(loopback_bind.why.find("with a loopback source"), std::string::npos);
  NatPlan wildcard = plan_nat(address_of("0.0.0.0:6432"), address_of("10.0.0.11:5432"), true);
  EXPECT_EQ(wildcard.reach, NatReach::kAllClients);
  EXPECT_NE(wildcard.why.find("connections to a loopback address are relayed"), std::string::npos);
}

TEST(NatPlanTest, AddressFamiliesMustMatchButADualStackBindTakesIpv4) {
  NatPlan mixed = plan_nat(address_of("10.0.0.5:6432"), address_of("[fd00::11]:5432"), true);
  EXPECT_EQ(mixed.reach, NatReach::kNone);
  EXPECT_NE(mixed.why.find("another address family"), std::string::npos);
  EXPECT_EQ(plan_nat(address_of("[::]:6432"), address_of("10.0.0.11:5432"), true).reach,
            NatReach::kAllClients);
  EXPECT_EQ(plan_nat(address_of("0.0.0.0:6432"), address_of("[fd00::11]:5432"), true).reach,
            NatReach::kNone);
}

TEST(NatPlanTest, LoopbackIsTheWholeRangeInIpv4) {
  EXPECT_TRUE(is_loopback(address_of("127.0.0.1:1")));
  EXPECT_TRUE(is_loopback(address_of("127.8.9.10:1")));
  EXPECT_TRUE(is_loopback(address_of("[::1]:1")));
  EXPECT_FALSE(is_loopback(address_of("10.0.0.1:1")));
  EXPECT_FALSE(is_loopback(address_of("[fd00::1]:1")));
  EXPECT_FALSE(is_loopback(address_of("0.0.0.0:1")));
}

}  // namespace
}  // namespace ballast::nat
