#include "cluster/cluster_view.h"

#include <gtest/gtest.h>

namespace ballast::cluster {
namespace {

KeyValue kv(std::string key, std::string value, int64_t mod) {
  KeyValue k;
  k.key = std::move(key);
  k.value = std::move(value);
  k.mod_revision = mod;
  k.create_revision = mod;
  return k;
}

RangeReply range(uint64_t id, int64_t revision, std::vector<KeyValue> kvs) {
  RangeReply r;
  r.header.cluster_id = id;
  r.header.revision = revision;
  r.kvs = std::move(kvs);
  return r;
}

TEST(ClusterViewTest, AFullReadFindsTheConfigurationNodesAndLeader) {
  ClusterView v(ClusterKeys("/b"));
  ViewChange c = v.load(
      range(1, 9,
            {kv("/b/config", "listeners: []", 5), kv("/b/nodes/lb-1", "{}", 6),
             kv("/b/nodes/lb-2", "{}", 7), kv("/b/leader", "lb-1", 8), kv("/b/unknown", "x", 9)}));
  EXPECT_EQ(c, ViewChange::kConfig);
  EXPECT_EQ(v.revision(), 9);
  EXPECT_EQ(v.config()->value, "listeners: []");
  EXPECT_EQ(v.nodes().size(), 2u);
  EXPECT_EQ(v.leader()->value, "lb-1");
  // The same again changes nothing.
  EXPECT_EQ(v.load(range(1, 9, {kv("/b/config", "listeners: []", 5)})), ViewChange::kNone);
}

TEST(ClusterViewTest, EventsMoveTheViewAndOldOnesAreIgnored) {
  ClusterView v(ClusterKeys("/b"));
  v.load(range(1, 5, {kv("/b/config", "one", 5)}));
  WatchEvent e{WatchEvent::Type::kPut, kv("/b/config", "two", 6)};
  EXPECT_EQ(v.apply(e), ViewChange::kConfig);
  EXPECT_EQ(v.config()->value, "two");
  // A resumed watch may repeat what the view has seen.
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/config", "one", 5)}),
            ViewChange::kNone);
  EXPECT_EQ(v.config()->value, "two");
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/nodes/x", "{}", 7)}),
            ViewChange::kMembers);
  EXPECT_EQ(v.nodes().count("x"), 1u);
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/nodes/x", "", 8)}),
            ViewChange::kMembers);
  EXPECT_TRUE(v.nodes().empty());
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/config", "", 9)}),
            ViewChange::kConfigDeleted);
  EXPECT_FALSE(v.config());
}

TEST(ClusterViewTest, EveryKeyDeletedWithOneLeaseGoes) {
  // A node's lease expires: its membership and its health view go at one revision, in one
  // watch message (as etcd 3.4 sends them).
  ClusterView v(ClusterKeys("/b"));
  v.load(range(1, 21, {kv("/b/nodes/x", "{}", 5), kv("/b/health/x", "[]", 6)}));
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/health/x", "", 22)}),
            ViewChange::kMembers);
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/nodes/x", "", 22)}),
            ViewChange::kMembers);
  EXPECT_TRUE(v.nodes().empty());
  EXPECT_TRUE(v.health().empty());
}

TEST(ClusterViewTest, RegisteredTargetsAreKeyedByGroupAndAddress) {
  ClusterView v(ClusterKeys("/b"));
  v.load(range(1, 5, {kv("/b/targets/app/127.0.0.1:9001", R"({"weight":2})", 5)}));
  ASSERT_NE(v.target("app", "127.0.0.1:9001"), nullptr);
  EXPECT_EQ(v.target("app", "127.0.0.1:9001")->kv.value, R"({"weight":2})");
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/targets/api/[::1]:80", "{}", 6)}),
            ViewChange::kTargets);
  EXPECT_EQ(v.targets().size(), 2u);
  EXPECT_EQ(v.targets().at("api/[::1]:80").address, "[::1]:80");
  // Keys that are not GROUP/ADDRESS are not read as targets.
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/targets/nogroup", "{}", 7)}),
            ViewChange::kNone);
  EXPECT_EQ(
      v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/targets/app/127.0.0.1:9001", "", 8)}),
      ViewChange::kTargets);
  EXPECT_EQ(v.targets().size(), 1u);
}

TEST(ClusterViewTest, CachePurgesAreKeyedByIdAndGoWithTheirKeys) {
  ClusterView v(ClusterKeys("/b"));
  v.load(range(1, 5, {kv("/b/purges/lb-1-1700000000000-1", R"({"by":"tag","value":"x"})", 5)}));
  ASSERT_EQ(v.purges().size(), 1u);
  EXPECT_EQ(v.purges().begin()->first, "lb-1-1700000000000-1");
  EXPECT_EQ(
      v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/purges/lb-2-1700000000001-1", "{}", 6)}),
      ViewChange::kPurges);
  EXPECT_EQ(
      v.apply(WatchEvent{WatchEvent::Type::kDelete, kv("/b/purges/lb-1-1700000000000-1", "", 7)}),
      ViewChange::kPurges);
  EXPECT_EQ(v.purges().size(), 1u);
  EXPECT_EQ(v.apply(WatchEvent{WatchEvent::Type::kPut, kv("/b/purges/", "{}", 8)}),
            ViewChange::kNone);  // no id: not a purge
  v.load(range(1, 9, {}));
  EXPECT_TRUE(v.purges().empty());
}

TEST(ClusterViewTest, AStoreThatWentBackOrChangedIdentityIsInconsistent) {
  ClusterView v(ClusterKeys("/b"));
  v.assume(7, 40, "from the snapshot", {});
  Header same{7, 0, 41};
  EXPECT_EQ(v.inconsistency(same), "");
  Header back{7, 0, 12};
  EXPECT_NE(v.inconsistency(back).find("went back from 40 to 12"), std::string::npos);
  Header other{8, 0, 50};
  EXPECT_NE(v.inconsistency(other).find("cluster id changed from 7 to 8"), std::string::npos);
  // The snapshot's configuration, found unchanged in etcd, is no change.
  EXPECT_EQ(v.load(range(7, 45, {kv("/b/config", "from the snapshot", 40)})), ViewChange::kNone);
}

// A node started from its snapshot serves the targets registered when it was saved, until
// etcd's first full read says which are still there.
TEST(ClusterViewTest, ASnapshotsTargetsStandUntilTheFirstFullRead) {
  ClusterView v(ClusterKeys("/b"));
  v.assume(7, 40, "from the snapshot",
           {kv("/b/targets/app/10.0.0.5:80", R"({"weight":1})", 42),
            kv("/b/targets/app/10.0.0.6:80", R"({"weight":1})", 43),
            kv("/other/targets/app/10.0.0.7:80", "{}", 44)});
  EXPECT_EQ(v.targets().size(), 2u);
  ASSERT_NE(v.target("app", "10.0.0.6:80"), nullptr);
  EXPECT_EQ(v.revision(), 43);  // the newest key it knew: a store behind it went back
  EXPECT_NE(v.inconsistency(Header{7, 0, 41}).find("went back from 43 to 41"), std::string::npos);
  v.load(range(7, 50,
               {kv("/b/config", "from the snapshot", 40),
                kv("/b/targets/app/10.0.0.6:80", R"({"weight":1})", 43)}));
  EXPECT_EQ(v.targets().size(), 1u);
  EXPECT_EQ(v.target("app", "10.0.0.5:80"), nullptr);
}

}  // namespace
}  // namespace ballast::cluster
