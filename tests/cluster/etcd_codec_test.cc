#include "cluster/etcd_codec.h"

#include <gtest/gtest.h>

#include <vector>

namespace ballast::cluster {
namespace {

using nlohmann::json;

TEST(EtcdCodecTest, Base64RoundTripsAndRefusesWhatIsNotBase64) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(unbase64(base64(s)), s);
  }
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(unbase64("Zm9vYg=="), "foob");
  EXPECT_FALSE(unbase64("Zm9"));       // not a multiple of 4
  EXPECT_FALSE(unbase64("Zm=v"));      // '=' inside
  EXPECT_FALSE(unbase64("Zm9v\n"));    // not in the alphabet
  EXPECT_FALSE(unbase64("Zm9v===="));  // too much padding
}

TEST(EtcdCodecTest, PrefixEndIsTheNextKeyAfterEveryKeyWithThePrefix) {
  EXPECT_EQ(prefix_end("/ballast/"), "/ballast0");
  EXPECT_EQ(prefix_end("a\xff"), "b");
  EXPECT_EQ(prefix_end(std::string("\xff\xff")), std::string(1, '\0'));
}

TEST(EtcdCodecTest, RequestsAreWhatTheGatewayTakes) {
  json r = range_request("/b/", true);
  EXPECT_EQ(r["key"], base64("/b/"));
  EXPECT_EQ(r["range_end"], base64("/b0"));
  EXPECT_EQ(put_request("k", "v", 42)["lease"], "42");
  EXPECT_FALSE(put_request("k", "v").contains("lease"));
  json t = txn_request({{"k", Compare::Target::kCreateRevision, 0, ""}},
                       {{Operation::Kind::kPut, "k", "v", 7, false}},
                       {{Operation::Kind::kRange, "k", "", 0, false}});
  EXPECT_EQ(t["compare"][0]["target"], "CREATE");
  EXPECT_EQ(t["compare"][0]["create_revision"], "0");
  EXPECT_EQ(t["success"][0]["request_put"]["lease"], "7");
  EXPECT_EQ(t["failure"][0]["request_range"]["key"], base64("k"));
  EXPECT_EQ(watch_request("/p/", 12)["create_request"]["start_revision"], "12");
}

TEST(EtcdCodecTest, RepliesAsEtcdThreeFourWritesThem) {
  // Taken from etcd 3.4.23's gateway.
  json range = json::parse(
      R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952",)"
      R"("revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2",)"
      R"("mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"})");
  RangeReply r = parse_range(range);
  EXPECT_EQ(r.header.cluster_id, 324952591200643719u);
  EXPECT_EQ(r.header.revision, 2);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].key, "foo");
  EXPECT_EQ(r.kvs[0].value, "bar");
  EXPECT_EQ(r.kvs[0].mod_revision, 2);

  // A failed transaction leaves "succeeded" out (proto3's zero value).
  json txn = json::parse(
      R"({"header":{"revision":"3"},"responses":[{"response_range":{"header":{"revision":"3"},)"
      R"("kvs":[{"key":"bGVhZGVy","create_revision":"3","mod_revision":"3","version":"1",)"
      R"("value":"bjE=","lease":"2324035770052301833"}],"count":"1"}}]})");
  TxnReply t = parse_txn(txn);
  EXPECT_FALSE(t.succeeded);
  ASSERT_EQ(t.ranges.size(), 1u);
  EXPECT_EQ(t.ranges[0][0].lease, 2324035770052301833);
  EXPECT_EQ(t.ranges[0][0].value, "n1");

  json watch = json::parse(
      R"({"result":{"header":{"revision":"9"},"events":[{"kv":{"key":"Zm9v","mod_revision":"9",)"
      R"("value":"eA=="}},{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"10"}}]}})");
  WatchMessage w = parse_watch(watch);
  ASSERT_EQ(w.events.size(), 2u);
  EXPECT_EQ(w.events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(w.events[1].type, WatchEvent::Type::kDelete);

  WatchMessage compacted = parse_watch(json::parse(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"3"}})"));
  EXPECT_TRUE(compacted.canceled);
  EXPECT_EQ(compacted.compact_revision, 3);

  EXPECT_EQ(parse_keepalive_ttl(json::parse(R"({"result":{"ID":"5","TTL":"4"}})")), 4);
  EXPECT_EQ(parse_keepalive_ttl(json::parse(R"({"result":{"ID":"5"}})")), 0);  // expired
  EXPECT_EQ(parse_lease_grant(json::parse(R"({"header":{},"ID":"77","TTL":"5"})")).id, 77);
}

TEST(EtcdCodecTest, RepliesOfTheWrongShapeAreErrorsThatSayWhat) {
  EXPECT_THROW(parse_range(json::array()), CodecError);
  EXPECT_THROW(parse_range(json::parse(R"({"kvs":[{"key":"not base64!"}]})")), CodecError);
  EXPECT_THROW(parse_range(json::parse(R"({"header":{"revision":"x1"}})")), CodecError);
  EXPECT_THROW(parse_watch(json::parse(R"({"error":{"message":"boom"}})")), CodecError);
  EXPECT_THROW(parse_watch(json::parse(R"({"result":{"events":[{"type":"MOVE"}]}})")), CodecError);
  EXPECT_THROW(parse_lease_grant(json::parse(R"({"header":{}})")), CodecError);
}

}  // namespace
}  // namespace ballast::cluster
