#include "db/pg_probe.h"

#include <gtest/gtest.h>

namespace ballast::db {
namespace {

TEST(PgProbeTest, APrimaryIsWhatIsNotInRecovery) {
  std::string error;
  auto s = PgProbe::status_from_row({"f", "50331744", "", "", "f", "3"}, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->role, Role::kPrimary);
  EXPECT_TRUE(s->confirmed_primary);
  EXPECT_TRUE(s->running());
  EXPECT_EQ(s->wal_position, 50331744u);
  EXPECT_EQ(s->timeline, 3u);
}

TEST(PgProbeTest, AReplicaReportsWhatItReceivedAndReplayed) {
  std::string error;
  auto s = PgProbe::status_from_row({"t", "", "50331744", "50331000", "t", "3"}, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_EQ(s->role, Role::kReplica);
  EXPECT_FALSE(s->confirmed_primary);
  EXPECT_EQ(s->received, 50331744u);
  EXPECT_EQ(s->replayed, 50331000u);
  EXPECT_TRUE(s->replay_paused);
}

TEST(PgProbeTest, AnythingElseIsNoStatus) {
  std::string error;
  EXPECT_FALSE(PgProbe::status_from_row({"maybe", "", "", "", "f", "1"}, &error));
  EXPECT_EQ(error, "an unexpected answer to the role query");
  EXPECT_FALSE(PgProbe::status_from_row({"t"}, &error));
}

}  // namespace
}  // namespace ballast::db
