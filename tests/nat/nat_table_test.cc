// NatTable and cut_nat_flows against the real kernel, in a network namespace of this test
// program's own (unshare at the first test), so the host's rules and flows are untouched.
#include "nat/nat_table.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace ballast::nat {
namespace {

using namespace test;  // NOLINT: the sandbox helpers

class NatTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!own_namespace(&why)) GTEST_SKIP() << why;
    table_ = NatTable::create(&why);
    if (!table_) GTEST_SKIP() << "the kernel refuses nftables here: " << why;
    primary_ = listen_any(&primary_port_);
    bind_ = listen_any(&bind_port_);  // ballast's own listener on the writer's address
    route_ =
        NatRoute{"w_main", loopback(bind_port_), loopback(primary_port_), NatReach::kLocalClients};
  }

  std::unique_ptr<NatTable> table_;
  Fd primary_, bind_;
  uint16_t primary_port_ = 0, bind_port_ = 0;
  NatRoute route_;
};

TEST_F(NatTableTest, ARouteSendsNewConnectionsToThePrimaryAndCountsThem) {
  std::string why;
  ASSERT_TRUE(table_->set_routes({route_}, {}, &why)) << why;
  Fd client = connect_to(bind_port_);
  Fd at_primary = accept_within(primary_, 2000);
  EXPECT_GE(at_primary.get(), 0) << "the connection did not reach the primary";
  EXPECT_LT(accept_within(bind_, 0).get(), 0) << "ballast's listener got it";
  EXPECT_EQ(table_->connections()["w_main"], 1u);

  // Without the route, new connections reach ballast's listener; the counter stays.
  ASSERT_TRUE(table_->set_routes({}, {"w_main"}, &why)) << why;
  Fd held = connect_to(bind_port_);
  EXPECT_GE(accept_within(bind_, 2000).get(), 0);
  EXPECT_EQ(table_->connections()["w_main"], 1u);
  // A counter no longer named is deleted.
  ASSERT_TRUE(table_->set_routes({}, {}, &why)) << why;
  EXPECT_EQ(table_->connections().count("w_main"), 0u);
}

TEST_F(NatTableTest, ACutFlowIsResetAndNothingMoreReachesItsMember) {
  std::string why;
  ASSERT_TRUE(table_->set_routes({route_}, {}, &why)) << why;
  Fd client = connect_to(bind_port_);
  Fd at_primary = accept_within(primary_, 2000);
  ASSERT_GE(at_primary.get(), 0);
  ASSERT_EQ(send(client.get(), "a", 1, 0), 1);
  char c = 0;
  ASSERT_EQ(recv(at_primary.get(), &c, 1, 0), 1);

  // The member is fenced: no route to it, and its flows cut.
  ASSERT_TRUE(table_->set_routes({}, {"w_main"}, &why)) << why;
  EXPECT_EQ(cut_nat_flows(route_.bind, route_.primary, &why), 1) << why;
  ASSERT_EQ(send(client.get(), "b", 1, 0), 1);
  pollfd p{client.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1) << "no reset came back";
  EXPECT_EQ(recv(client.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  pollfd q{at_primary.get(), POLLIN, 0};
  EXPECT_EQ(poll(&q, 1, 200), 0) << "the member got more of the cut session";
  // Nothing else matched.
  EXPECT_EQ(cut_nat_flows(route_.bind, route_.primary, &why), 0) << why;
}

TEST_F(NatTableTest, TheRulesGoWithTheTable) {
  std::string why;
  ASSERT_TRUE(table_->set_routes({route_}, {}, &why)) << why;
  table_.reset();  // as when ballast exits, however it exits: the socket closes
  Fd client = connect_to(bind_port_);
  EXPECT_GE(accept_within(bind_, 2000).get(), 0) << "a rule outlived its table";
  // And a new table of the same name can be made again.
  table_ = NatTable::create(&why);
  EXPECT_TRUE(table_) << why;
}

}  // namespace
}  // namespace ballast::nat
