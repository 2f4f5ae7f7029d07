#include "db/database_state.h"

#include <gtest/gtest.h>

namespace ballast::db {
namespace {

using health::HealthReason;
using health::TargetHealth;

PatroniStatus primary(uint64_t position, uint64_t timeline = 1) {
  PatroniStatus s;
  s.confirmed_primary = true;
  s.role = Role::kPrimary;
  s.state = "running";
  s.scope = "main";
  s.timeline = timeline;
  s.wal_position = position;
  return s;
}

PatroniStatus replica(uint64_t replayed, uint64_t timeline = 1) {
  PatroniStatus s;
  s.role = Role::kReplica;
  s.state = "running";
  s.scope = "main";
  s.timeline = timeline;
  s.received = s.replayed = replayed;
  return s;
}

DatabaseState three(ReaderPolicy policy = {}) {
  return DatabaseState(
      "main", {{"pg1", "127.0.0.1:5433"}, {"pg2", "127.0.0.1:5434"}, {"pg3", "127.0.0.1:5435"}},
      policy);
}

TEST(DatabaseStateTest, TheConfirmedPrimaryIsTheWriterAndReplicasServeReads) {
  DatabaseState s = three();
  s.report(0, primary(1000), 0);
  s.report(1, replica(1000), 0);
  s.report(2, replica(1000), 0);
  auto changes = s.decide(0);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, WriterChange::Kind::kPromoted);
  EXPECT_EQ(changes[0].member, "pg1");
  EXPECT_EQ(changes[0].previous, "");
  EXPECT_EQ(s.writer(), 0u);
  const auto& m = s.members();
  EXPECT_EQ(m[0].writer.state, TargetHealth::kHealthy);
  EXPECT_EQ(m[1].writer.state, TargetHealth::kFenced);
  EXPECT_EQ(m[2].writer.state, TargetHealth::kFenced);
  EXPECT_EQ(m[0].reader.state, TargetHealth::kUnhealthy);
  EXPECT_EQ(m[0].reader.reason, HealthReason::kRole);
  EXPECT_EQ(m[1].reader.state, TargetHealth::kHealthy);
  EXPECT_EQ(m[2].reader.state, TargetHealth::kHealthy);
  EXPECT_EQ(s.fresh_replicas(), 2u);
  EXPECT_TRUE(s.decide(0).empty());  // nothing new
}

TEST(DatabaseStateTest, AMemberWithoutStatusIsNeverThePrimary) {
  DatabaseState s = three();
  s.unreachable(0, "Patroni's REST API did not answer: connection refused", 0);
  s.report(1, replica(1000), 0);
  s.report(2, replica(1000), 0);
  EXPECT_TRUE(s.decide(0).empty());
  EXPECT_FALSE(s.writer());
  EXPECT_EQ(s.members()[0].writer.state, TargetHealth::kFenced);
  EXPECT_EQ(s.members()[0].writer.reason, HealthReason::kNoStatus);
  EXPECT_EQ(s.members()[0].reader.reason, HealthReason::kNoStatus);
  EXPECT_EQ(s.members()[0].role, Role::kUnknown);
}

TEST(DatabaseStateTest, AFailoverFencesTheOldPrimaryAndPromotesTheNew) {
  DatabaseState s = three();
  s.report(0, primary(1000), 0);
  s.report(1, replica(1000), 0);
  s.report(2, replica(1000), 0);
  s.decide(0);
  // The primary's agent says it no longer holds the key: it is fenced at once.
  PatroniStatus demoting = primary(1000);
  demoting.confirmed_primary = false;
  s.report(0, demoting, 100);
  auto changes = s.decide(100);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, WriterChange::Kind::kLost);
  EXPECT_EQ(s.members()[0].writer.state, TargetHealth::kFenced);
  EXPECT_FALSE(s.writer());
  // pg2 is promoted on a new timeline.
  s.report(1, primary(2000, 2), 1300);
  changes = s.decide(1300);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, WriterChange::Kind::kPromoted);
  EXPECT_EQ(changes[0].member, "pg2");
  EXPECT_EQ(changes[0].previous, "pg1");
  EXPECT_EQ(changes[0].timeline, 2u);
  EXPECT_EQ(changes[0].without_ms, 1200);
  EXPECT_EQ(s.members()[1].writer.state, TargetHealth::kHealthy);
}

TEST(DatabaseStateTest, ASilentPrimaryKeepsItsSessionsUntilAnotherIsConfirmed) {
  DatabaseState s = three();
  s.report(0, primary(1000), 0);
  s.report(1, replica(1000), 0);
  s.decide(0);
  s.unreachable(0, "timed out", 500);
  auto changes = s.decide(500);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, WriterChange::Kind::kLost);
  // No new connections, but not fenced: nothing says it stopped being the primary.
  EXPECT_EQ(s.members()[0].writer.state, TargetHealth::kUnhealthy);
  EXPECT_EQ(s.members()[0].writer.reason, HealthReason::kNoStatus);
  s.report(1, primary(1000, 2), 4000);
  s.decide(4000);
  EXPECT_EQ(s.members()[0].writer.state, TargetHealth::kFenced);
  EXPECT_EQ(s.writer(), 1u);
}

TEST(DatabaseStateTest, TwoConfirmationsOnOneTimelinePickNone) {
  DatabaseState s = three();
  s.report(0, primary(1000, 3), 0);
  s.report(1, primary(1000, 3), 0);
  s.decide(0);
  EXPECT_FALSE(s.writer());
  EXPECT_EQ(s.members()[0].writer.state, TargetHealth::kFenced);
  EXPECT_EQ(s.members()[1].writer.state, TargetHealth::kFenced);
  // The later timeline wins.
  s.report(1, primary(1000, 4), 10);
  s.decide(10);
  EXPECT_EQ(s.writer(), 1u);
}

TEST(DatabaseStateTest, ALaggingReplicaStopsServingReadsAndComesBack) {
  DatabaseState s = three(ReaderPolicy{16 << 20, 0, ReaderFallback::kWriter});
  s.report(0, primary(100 << 20), 0);
  s.report(1, replica(100 << 20), 0);
  s.report(2, replica(90 << 20), 0);  // 10 MiB behind: within 16 MiB
  s.decide(0);
  EXPECT_EQ(s.members()[2].reader.state, TargetHealth::kHealthy);
  s.report(0, primary(120 << 20), 250);
  s.report(1, replica(120 << 20), 250);
  s.decide(250);
  EXPECT_EQ(s.members()[2].lag_bytes, uint64_t{30} << 20);
  EXPECT_EQ(s.members()[2].reader.state, TargetHealth::kUnhealthy);
  EXPECT_EQ(s.members()[2].reader.reason, HealthReason::kLagging);
  EXPECT_EQ(s.members()[1].reader.state, TargetHealth::kHealthy);
  s.report(2, replica(119 << 20), 500);
  s.decide(500);
  EXPECT_EQ(s.members()[2].reader.state, TargetHealth::kHealthy);
}

TEST(DatabaseStateTest, LagInTimeIsBounded) {
  DatabaseState s = three(ReaderPolicy{0, 1000, ReaderFallback::kRefuse});
  s.report(0, primary(1000), 0);
  s.report(1, replica(1000), 0);
  s.decide(0);
  s.report(0, primary(2000), 100);
  s.decide(100);
  EXPECT_EQ(s.members()[1].reader.state, TargetHealth::kHealthy);  // 0 ms behind its report
  s.report(0, primary(3000), 1500);
  s.decide(1500);
  EXPECT_EQ(s.members()[1].lag_ms, 1400);  // the primary passed 1000 at t=100
  EXPECT_EQ(s.members()[1].reader.reason, HealthReason::kLagging);
  // No replica fresh and fallback refuse: the primary does not take reads either.
  EXPECT_EQ(s.members()[0].reader.state, TargetHealth::kUnhealthy);
  EXPECT_EQ(s.fresh_replicas(), 0u);
}

TEST(DatabaseStateTest, WithNoFreshReplicaReadsFallBackToThePrimary) {
  DatabaseState s = three(ReaderPolicy{1024, 0, ReaderFallback::kWriter});
  s.report(0, primary(1 << 20), 0);
  s.report(1, replica(0), 0);
  s.unreachable(2, "refused", 0);
  s.decide(0);
  EXPECT_EQ(s.members()[0].reader.state, TargetHealth::kHealthy);
  EXPECT_EQ(s.members()[1].reader.state, TargetHealth::kUnhealthy);
}

TEST(DatabaseStateTest, NoloadbalanceAndStoppedReplicasServeNoReads) {
  DatabaseState s = three();
  s.report(0, primary(1000), 0);
  PatroniStatus tagged = replica(1000);
  tagged.noloadbalance = true;
  s.report(1, tagged, 0);
  PatroniStatus stopped = replica(1000);
  stopped.state = "starting";
  s.report(2, stopped, 0);
  s.decide(0);
  EXPECT_EQ(s.members()[1].reader.reason, HealthReason::kExcluded);
  EXPECT_EQ(s.members()[2].reader.reason, HealthReason::kExcluded);
  EXPECT_EQ(s.fresh_replicas(), 0u);
}

TEST(DatabaseStateTest, AReplicaThatDoesNotStreamFromThePrimaryServesNoReads) {
  DatabaseState s = three();
  PatroniStatus p = primary(1000);
  p.streaming = {"pg2"};  // pg3's WAL receiver is down
  s.report(0, p, 0);
  s.report(1, replica(1000), 0);
  s.report(2, replica(1000), 0);
  s.decide(0);
  EXPECT_EQ(s.members()[1].reader.state, TargetHealth::kHealthy);
  EXPECT_EQ(s.members()[2].reader.reason, HealthReason::kExcluded);
  EXPECT_EQ(s.members()[2].reader.detail, "not streaming from the primary");
  // Members named otherwise than Patroni names them: the check cannot apply.
  DatabaseState by_address(
      "main", {{"127.0.0.1:5433", "127.0.0.1:5433"}, {"127.0.0.1:5434", "127.0.0.1:5434"}}, {});
  p.streaming = {"pg9"};
  by_address.report(0, p, 0);
  by_address.report(1, replica(1000), 0);
  by_address.decide(0);
  EXPECT_EQ(by_address.members()[1].reader.state, TargetHealth::kHealthy);
}

TEST(DatabaseStateTest, AnAgentOfAnotherScopeIsUnknown) {
  DatabaseState s = three();
  PatroniStatus other = primary(1000);
  other.scope = "billing";
  s.report(0, other, 0);
  s.decide(0);
  EXPECT_FALSE(s.writer());
  EXPECT_NE(s.members()[0].error.find("\"billing\""), std::string::npos);
}

}  // namespace
}  // namespace ballast::db
