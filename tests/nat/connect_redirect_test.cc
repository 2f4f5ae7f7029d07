// ConnectRedirect against the real kernel: its programs attach to the root cgroup, but
// redirect only connects made in the network namespace this test program moved into.
#include "nat/connect_redirect.h"

#include <gtest/gtest.h>

#include "sandbox.h"

namespace ballast::nat {
namespace {

using namespace test;  // NOLINT: the sandbox helpers

class ConnectRedirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!own_namespace(&why)) GTEST_SKIP() << why;
    redirect_ = ConnectRedirect::load(&why);
    if (!redirect_) GTEST_SKIP() << "the kernel refuses the connect redirect here: " << why;
    primary_ = listen_any(&primary_port_);
    bind_ = listen_any(&bind_port_);  // ballast's own listener on the writer's address
  }
  ConnectRedirect::Route route() const { return {loopback(bind_port_), loopback(primary_port_)}; }

  std::unique_ptr<ConnectRedirect> redirect_;
  Fd primary_, bind_;
  uint16_t primary_port_ = 0, bind_port_ = 0;
};

TEST_F(ConnectRedirectTest, AConnectToTheBindReachesThePrimaryAndKeepsItsPeerName) {
  std::string why;
  ASSERT_TRUE(redirect_->set_routes({route()}, &why)) << why;
  Fd client = connect_to(bind_port_);
  EXPECT_GE(accept_within(primary_, 2000).get(), 0) << "the connection did not reach the primary";
  EXPECT_LT(accept_within(bind_, 0).get(), 0) << "ballast's listener got it";
  sockaddr_in peer{};
  socklen_t len = sizeof(peer);
  ASSERT_EQ(getpeername(client.get(), reinterpret_cast<sockaddr*>(&peer), &len), 0);
  EXPECT_EQ(ntohs(peer.sin_port), bind_port_) << "getpeername shows the primary";
  EXPECT_EQ(redirect_->connections(loopback(bind_port_)), 1u);

  // Without the route (a switchover's hold), connects reach ballast's listener; the count
  // goes on when the route comes back.
  ASSERT_TRUE(redirect_->set_routes({}, &why)) << why;
  Fd held = connect_to(bind_port_);
  EXPECT_GE(accept_within(bind_, 2000).get(), 0);
  ASSERT_TRUE(redirect_->set_routes({route()}, &why)) << why;
  Fd again = connect_to(bind_port_);
  EXPECT_GE(accept_within(primary_, 2000).get(), 0);
  EXPECT_EQ(redirect_->connections(loopback(bind_port_)), 2u);
}

TEST_F(ConnectRedirectTest, ClosingAFencedMembersFlowsResetsBothEnds) {
  std::string why;
  ASSERT_TRUE(redirect_->set_routes({route()}, &why)) << why;
  Fd client = connect_to(bind_port_);
  Fd at_primary = accept_within(primary_, 2000);
  ASSERT_GE(at_primary.get(), 0);
  // A connection made to the member directly (as Patroni's own are) is not ballast's.
  Fd direct = connect_to(primary_port_);
  Fd direct_at_primary = accept_within(primary_, 2000);
  ASSERT_GE(direct_at_primary.get(), 0);

  EXPECT_EQ(redirect_->close_flows_to(loopback(primary_port_), &why), 1) << why;
  char c = 0;
  EXPECT_EQ(send(client.get(), "a", 1, MSG_NOSIGNAL), -1);
  pollfd p{at_primary.get(), POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 2000), 1) << "the member's side got no reset";
  EXPECT_EQ(recv(at_primary.get(), &c, 1, 0), -1);
  EXPECT_EQ(errno, ECONNRESET);
  // The direct connection is untouched.
  ASSERT_EQ(send(direct.get(), "b", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(recv(direct_at_primary.get(), &c, 1, 0), 1);
}

TEST_F(ConnectRedirectTest, ASweepForgetsClosedSockets) {
  std::string why;
  ASSERT_TRUE(redirect_->set_routes({route()}, &why)) << why;
  Fd open_client = connect_to(bind_port_);
  Fd open_at_primary = accept_within(primary_, 2000);
  {
    Fd closed_client = connect_to(bind_port_);
    Fd closed_at_primary = accept_within(primary_, 2000);
    // Closed with a reset, so that it leaves no TIME_WAIT behind (which keeps its cookie,
    // and its flow, for a minute).
    linger abort{1, 0};
    setsockopt(closed_client.get(), SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
  }
  EXPECT_EQ(redirect_->sweep(), 1u);  // the open one stays
}

}  // namespace
}  // namespace ballast::nat
