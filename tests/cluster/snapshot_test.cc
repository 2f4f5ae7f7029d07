#include "cluster/snapshot.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_env.h"

namespace ballast::cluster {
namespace {

TEST(SnapshotTest, TheConfigurationAndRegisteredTargetsComeBackAsSaved) {
  std::string dir = test::make_temp_dir();
  Snapshot s;
  s.cluster_id = 18446744073709551615ULL;  // etcd's ids use all 64 bits
  s.revision = 40;
  s.saved_unix = 1700000000;
  s.config = "listeners: []\n";
  KeyValue t;
  t.key = "/b/targets/app/10.0.0.5:80";
  t.value = R"({"weight":3,"draining":false,"owner":"asg:web"})";
  t.mod_revision = 42;
  s.targets.push_back(t);
  std::string error;
  ASSERT_TRUE(save_snapshot(dir, s, &error)) << error;
  auto back = load_snapshot(dir, &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->cluster_id, s.cluster_id);
  EXPECT_EQ(back->revision, 40);
  EXPECT_EQ(back->config, s.config);
  ASSERT_EQ(back->targets.size(), 1u);
  EXPECT_EQ(back->targets[0].key, t.key);
  EXPECT_EQ(back->targets[0].value, t.value);
  EXPECT_EQ(back->targets[0].mod_revision, 42);
}

TEST(SnapshotTest, OneWrittenBeforeTargetsWereKeptLoadsWithNone) {
  std::string dir = test::make_temp_dir();
  test::write_file(snapshot_path(dir),
                   R"({"cluster_id":"7","revision":3,"saved_unix":1,"config":"x: 1"})");
  std::string error;
  auto s = load_snapshot(dir, &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(s->targets.empty());
}

TEST(SnapshotTest, ADamagedOneIsAnErrorThatSaysWhatToDo) {
  std::string dir = test::make_temp_dir();
  test::write_file(snapshot_path(dir), R"({"cluster_id":"7","revision":3,"targets":[{}]})");
  std::string error;
  EXPECT_FALSE(load_snapshot(dir, &error));
  EXPECT_NE(error.find("is damaged"), std::string::npos) << error;
  EXPECT_NE(error.find("delete it to start without it"), std::string::npos) << error;
  // None at all is no error: the node starts from etcd.
  std::string none;
  EXPECT_FALSE(load_snapshot(test::make_temp_dir(), &none));
  EXPECT_EQ(none, "");
}

}  // namespace
}  // namespace ballast::cluster
