#include "db/patroni_keys.h"

#include <gtest/gtest.h>

namespace ballast::db {
namespace {

using cluster::KeyValue;
using cluster::WatchEvent;

// Values as Patroni 3.0.2 writes them under /service/main/ (etcd3).
const char* kPg1 =
    R"({"conn_url":"postgres://127.0.0.1:15431/postgres","api_url":"http://127.0.0.1:18001/patroni",)"
    R"("state":"running","role":"master","version":"3.0.2","xlog_location":231708168,"timeline":1})";
const char* kPg2 =
    R"({"conn_url":"postgres://127.0.0.1:15432/postgres","api_url":"http://127.0.0.1:18002/patroni",)"
    R"("state":"running","role":"replica","version":"3.0.2","timeline":1})";

KeyValue kv(const std::string& key, const std::string& value, int64_t revision) {
  KeyValue k;
  k.key = key;
  k.value = value;
  k.mod_revision = revision;
  return k;
}

struct Seen {
  int members_changed = 0;
  std::vector<std::string> leaders;
};

PatroniKeys keys(Seen& seen) {
  return PatroniKeys("/service", "main",
                     {[&seen] { ++seen.members_changed; },
                      [&seen](const std::string& l) { seen.leaders.push_back(l); }});
}

TEST(PatroniKeysTest, AReadFindsTheMembersAndTheLeader) {
  Seen seen;
  PatroniKeys k = keys(seen);
  EXPECT_EQ(k.prefix(), "/service/main/");
  cluster::RangeReply r;
  r.header.revision = 40;
  r.kvs = {kv("/service/main/config", "{}", 3), kv("/service/main/leader", "pg1", 30),
           kv("/service/main/members/pg1", kPg1, 38), kv("/service/main/members/pg2", kPg2, 39),
           kv("/service/main/members/pg3", "not json", 12)};
  k.load(r, "");
  ASSERT_EQ(k.members().size(), 2u);
  EXPECT_EQ(k.members().at("pg1").address, "127.0.0.1:15431");
  EXPECT_EQ(k.members().at("pg1").rest_url, "http://127.0.0.1:18001");
  EXPECT_EQ(k.unreadable().count("pg3"), 1u);
  EXPECT_EQ(k.leader(), "pg1");
  EXPECT_EQ(k.revision(), 40);
  EXPECT_EQ(seen.members_changed, 1);
  EXPECT_EQ(seen.leaders, std::vector<std::string>{"pg1"});
}

TEST(PatroniKeysTest, WatchEventsMoveTheLeaderAndTheMembers) {
  Seen seen;
  PatroniKeys k = keys(seen);
  cluster::RangeReply r;
  r.header.revision = 40;
  r.kvs = {kv("/service/main/leader", "pg1", 30), kv("/service/main/members/pg1", kPg1, 38)};
  k.load(r, "");
  // The leader key expires and pg2 takes it, in one message with pg2's new member value.
  cluster::WatchMessage m;
  WatchEvent gone;
  gone.type = WatchEvent::Type::kDelete;
  gone.kv = kv("/service/main/leader", "", 41);
  WatchEvent taken;
  taken.kv = kv("/service/main/leader", "pg2", 42);
  WatchEvent member;
  member.kv = kv("/service/main/members/pg2", kPg2, 42);
  m.events = {gone, taken, member};
  k.apply(m);
  EXPECT_EQ(k.leader(), "pg2");
  EXPECT_EQ((std::vector<std::string>{"pg1", "", "pg2"}), seen.leaders);
  EXPECT_EQ(k.members().size(), 2u);
  EXPECT_EQ(seen.members_changed, 2);
  EXPECT_EQ(k.revision(), 42);
  // A member value that changes only its xlog position is no change of members.
  cluster::WatchMessage again;
  WatchEvent same;
  same.kv = kv(
      "/service/main/members/pg2",
      R"({"conn_url":"postgres://127.0.0.1:15432/postgres","api_url":"http://127.0.0.1:18002/patroni","xlog_location":5})",
      43);
  again.events = {same};
  k.apply(again);
  EXPECT_EQ(seen.members_changed, 2);
  // Old events (at or below the copy's revision) are ignored.
  cluster::WatchMessage old;
  WatchEvent stale;
  stale.type = WatchEvent::Type::kDelete;
  stale.kv = kv("/service/main/members/pg1", "", 38);
  old.events = {stale};
  k.apply(old);
  EXPECT_EQ(k.members().count("pg1"), 1u);
}

TEST(PatroniKeysTest, UrlsAreRead) {
  EXPECT_EQ(PatroniKeys::address_of_conn_url("postgres://10.0.0.1:5432/postgres"), "10.0.0.1:5432");
  EXPECT_EQ(PatroniKeys::address_of_conn_url("postgresql://u:p@[::1]:5433/db?x=1"), "[::1]:5433");
  EXPECT_FALSE(PatroniKeys::address_of_conn_url("postgres://10.0.0.1/postgres"));
  EXPECT_FALSE(PatroniKeys::address_of_conn_url("http://10.0.0.1:5432"));
  EXPECT_EQ(PatroniKeys::base_of_api_url("http://10.0.0.1:8008/patroni"), "http://10.0.0.1:8008");
  EXPECT_FALSE(PatroniKeys::base_of_api_url("https://10.0.0.1:8008/patroni"));
}

TEST(PatroniKeysTest, AStoreThatWentBackIsReadAgain) {
  Seen seen;
  PatroniKeys k = keys(seen);
  cluster::RangeReply r;
  r.header.revision = 40;
  r.header.cluster_id = 7;
  k.load(r, "");
  cluster::Header h;
  h.revision = 39;
  h.cluster_id = 7;
  EXPECT_NE(k.inconsistency(h), "");
  h.revision = 41;
  EXPECT_EQ(k.inconsistency(h), "");
  h.cluster_id = 8;
  EXPECT_NE(k.inconsistency(h), "");
}

}  // namespace
}  // namespace ballast::db
