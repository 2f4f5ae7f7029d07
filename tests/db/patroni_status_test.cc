#include "db/patroni_status.h"

#include <gtest/gtest.h>

namespace ballast::db {
namespace {

// Patroni 3.0.2's answers to GET /primary, taken from a three-member cluster.
constexpr const char* kPrimary =
    R"({"state": "running", "postmaster_start_time": "2026-12-02 23:10:01.1+00:00",)"
    R"( "role": "master", "server_version": 150018, "xlog": {"location": 67109208},)"
    R"( "timeline": 2, "replication": [{"usename": "replicator", "application_name": "pg2",)"
    R"( "client_addr": "127.0.0.1", "state": "streaming", "sync_state": "sync",)"
    R"( "sync_priority": 1}], "dcs_last_seen": 1796252000,)"
    R"( "database_system_identifier": "7311", "patroni": {"version": "3.0.2", "scope": "main"}})";
constexpr const char* kReplica =
    R"({"state": "running", "role": "replica", "server_version": 150018,)"
    R"( "xlog": {"received_location": 67109208, "replayed_location": 67100000,)"
    R"( "replayed_timestamp": null, "paused": true}, "timeline": 2,)"
    R"( "tags": {"noloadbalance": true, "nofailover": "true"}, "sync_standby": true,)"
    R"( "patroni": {"version": "3.0.2", "scope": "main"}})";

TEST(PatroniStatusTest, APrimaryConfirmedByItsAgent) {
  std::string error;
  auto s = parse_patroni_status(200, kPrimary, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->confirmed_primary);
  EXPECT_EQ(s->role, Role::kPrimary);
  EXPECT_TRUE(s->running());
  EXPECT_EQ(s->timeline, 2u);
  EXPECT_EQ(s->wal_position, 67109208u);
  EXPECT_EQ(s->scope, "main");
  EXPECT_FALSE(s->noloadbalance);
  EXPECT_EQ(s->streaming, std::vector<std::string>{"pg2"});
}

TEST(PatroniStatusTest, APrimaryWithoutTheLeaderKeyIsNotConfirmed) {
  std::string error;
  // A 503 to /primary with role master: PostgreSQL still runs as primary, but the agent no
  // longer holds the leader key (it is about to demote).
  auto s = parse_patroni_status(503, kPrimary, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->confirmed_primary);
  EXPECT_EQ(s->role, Role::kPrimary);
}

TEST(PatroniStatusTest, AReplicaWithItsPositionsAndTags) {
  std::string error;
  auto s = parse_patroni_status(503, kReplica, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->confirmed_primary);
  EXPECT_EQ(s->role, Role::kReplica);
  EXPECT_EQ(s->received, 67109208u);
  EXPECT_EQ(s->replayed, 67100000u);
  EXPECT_TRUE(s->replay_paused);
  EXPECT_TRUE(s->noloadbalance);
  EXPECT_TRUE(s->nofailover);
}

TEST(PatroniStatusTest, AStoppedMemberHasOnlyStateAndRole) {
  std::string error;
  auto s = parse_patroni_status(
      503, R"({"state": "stopped", "role": "master", "cluster_unlocked": true})", &error);
  ASSERT_TRUE(s) << error;
  EXPECT_FALSE(s->confirmed_primary);
  EXPECT_FALSE(s->running());
  EXPECT_TRUE(s->cluster_unlocked);
  // Even a 200 does not confirm a primary that does not run.
  s = parse_patroni_status(200, R"({"state": "starting", "role": "master"})", &error);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->confirmed_primary);
}

TEST(PatroniStatusTest, NewerPatroniSaysPrimary) {
  std::string error;
  auto s = parse_patroni_status(200, R"({"state": "running", "role": "primary", "timeline": 7})",
                                &error);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->confirmed_primary);
}

TEST(PatroniStatusTest, AnythingElseIsNoStatus) {
  std::string error;
  EXPECT_FALSE(parse_patroni_status(200, "<html>proxy error</html>", &error));
  EXPECT_EQ(error, "the answer is not a JSON object");
  EXPECT_FALSE(parse_patroni_status(200, R"({"role": "master"})", &error));
  EXPECT_EQ(error, "the answer has no state and role");
  EXPECT_FALSE(parse_patroni_status(
      200, R"({"state": "running", "role": "master", "xlog": {"location": "0/3000060"}})", &error));
  EXPECT_EQ(error, "xlog.location is not a WAL position");
  EXPECT_FALSE(parse_patroni_status(200, R"([1, 2])", &error));
}

}  // namespace
}  // namespace ballast::db
