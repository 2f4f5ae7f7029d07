#include "cluster/leader_lease.h"

#include <gtest/gtest.h>

namespace ballast::cluster {
namespace {

TEST(LeaderLeaseTest, TheLeaderActsOnlyWhileItsLeaseMustStillStand) {
  LeaderLease lease(5000, 500);
  EXPECT_FALSE(lease.acting(0));
  lease.won(42, 1000);  // the campaign was sent at 1000
  EXPECT_EQ(lease.token(), 42);
  EXPECT_TRUE(lease.acting(1000));
  EXPECT_TRUE(lease.acting(5499));
  // etcd counts the TTL from when it received the request, so 1000 + 5000 is the earliest
  // the lease can end; the margin stops the leader before that.
  EXPECT_FALSE(lease.acting(5500));
  EXPECT_TRUE(lease.held());  // stopped acting, and the caller steps down
}

TEST(LeaderLeaseTest, RenewalsCountFromWhenTheyWereSent) {
  LeaderLease lease(5000, 500);
  lease.won(7, 0);
  lease.renewed(1500);
  EXPECT_TRUE(lease.acting(5999));
  EXPECT_FALSE(lease.acting(6000));
  // An answer to an older renewal that arrives late never shortens the lease.
  lease.renewed(1000);
  EXPECT_TRUE(lease.acting(5999));
  lease.lost();
  EXPECT_FALSE(lease.acting(100));
  EXPECT_EQ(lease.token(), 0);
  lease.renewed(200);  // a renewal after losing gives nothing back
  EXPECT_FALSE(lease.acting(300));
}

}  // namespace
}  // namespace ballast::cluster
