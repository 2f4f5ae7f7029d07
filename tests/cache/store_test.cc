#include "cache/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ballast::cache {
namespace {

ObjectPtr object(std::string key, size_t body_size, std::string variant = {},
                 std::vector<std::string> tags = {}) {
  Object::Parts p;
  p.url = "h" + key;
  p.key = std::move(key);
  p.variant = std::move(variant);
  p.tags = std::move(tags);
  p.fields = "Content-Type: text/plain\r\nETag: \"v1\"\r\n";
  p.body.assign(body_size, 'x');
  return Object::make(std::move(p));
}

auto any = [](const Object&) { return true; };

TEST(ObjectTest, HeadViewsItsOwnFields) {
  ObjectPtr o = object("/a", 10);
  EXPECT_EQ(o->head().status, 200);
  EXPECT_EQ(o->head().content_length, 10u);
  EXPECT_EQ(o->etag(), "\"v1\"");
  EXPECT_EQ(o->head().find("content-type"), "text/plain");
  EXPECT_GT(o->charge(), 10u);
}

TEST(StoreTest, FindsWhatWasStoredByKeyAndVariant) {
  Store store(16 << 20);
  EXPECT_EQ(store.find("/a", any), nullptr);
  EXPECT_EQ(store.insert(object("/a", 100, "gzip")), Store::Outcome::kStored);
  EXPECT_EQ(store.insert(object("/a", 200, "br")), Store::Outcome::kStored);
  ObjectPtr br = store.find("/a", [](const Object& o) { return o.variant() == "br"; });
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->body().size(), 200u);
  EXPECT_EQ(store.find("/a", [](const Object& o) { return o.variant() == "zstd"; }), nullptr);
  EXPECT_EQ(store.find("/b", any), nullptr);
  EXPECT_EQ(store.totals().objects, 2u);
}

TEST(StoreTest, ANewVersionReplacesItsVariant) {
  Store store(16 << 20);
  store.insert(object("/a", 100));
  store.insert(object("/a", 300));
  EXPECT_EQ(store.totals().objects, 1u);
  EXPECT_EQ(store.find("/a", any)->body().size(), 300u);
  EXPECT_EQ(store.remove("/a"), 1u);
  EXPECT_EQ(store.find("/a", any), nullptr);
  EXPECT_EQ(store.totals().bytes, 0u);
}

TEST(StoreTest, AnObjectLargerThanAShardIsNotStored) {
  Store store(16 * 1024);  // shards of 1 KiB
  EXPECT_EQ(store.insert(object("/big", 2048)), Store::Outcome::kTooLarge);
  EXPECT_EQ(store.totals().objects, 0u);
}

// Keys that land in one shard, so that they compete for its room.
std::vector<std::string> keys_in_one_shard(size_t n) {
  std::vector<std::string> keys;
  uint64_t shard = Object::hash_key("/k0") >> 60;
  for (int i = 0; keys.size() < n; ++i) {
    std::string k = "/k" + std::to_string(i);
    if (Object::hash_key(k) >> 60 == shard) keys.push_back(k);
  }
  return keys;
}

TEST(StoreTest, AScanDoesNotPushOutWhatIsAskedForAgain) {
  // Shards of 64 KiB: room for about 14 objects of 4 KiB.
  Store store(16 * 64 * 1024);
  std::vector<std::string> keys = keys_in_one_shard(200);
  // A working set of 10 popular objects, each asked for several times.
  for (int round = 0; round < 4; ++round) {
    for (size_t i = 0; i < 10; ++i) {
      if (!store.find(keys[i], any)) store.insert(object(keys[i], 4096));
    }
  }
  // A scan: 190 keys asked for once each.
  for (size_t i = 10; i < 200; ++i) {
    if (!store.find(keys[i], any)) store.insert(object(keys[i], 4096));
  }
  for (size_t i = 0; i < 10; ++i) EXPECT_NE(store.find(keys[i], any), nullptr) << keys[i];
  EXPECT_GT(store.totals().not_admitted, 150u);
}

TEST(StoreTest, AnObjectAskedForOftenIsAdmittedOverColdOnes) {
  Store store(16 * 64 * 1024);
  std::vector<std::string> keys = keys_in_one_shard(40);
  for (size_t i = 0; i < 14; ++i) {
    store.find(keys[i], any);
    store.insert(object(keys[i], 4096));
  }
  ASSERT_LT(store.totals().bytes, 64u * 1024);
  // A new key asked for three times beats the coldest incumbent (asked for once).
  for (int i = 0; i < 3; ++i) store.find(keys[30], any);
  EXPECT_EQ(store.insert(object(keys[30], 4096)), Store::Outcome::kStored);
  EXPECT_GE(store.totals().evictions, 1u);
}

TEST(StoreTest, SmallerCapacityEvictsAtOnceAndTellsTheOwners) {
  Store store(16 << 20);
  auto owner = std::make_shared<OwnerCounts>();
  for (int i = 0; i < 100; ++i) {
    Object::Parts p;
    p.key = p.url = "/o" + std::to_string(i);
    p.body.assign(1000, 'x');
    p.owner = owner;
    store.insert(Object::make(std::move(p)));
  }
  store.set_capacity(16 * 4096);
  EXPECT_LE(store.totals().bytes, 16u * 4096);
  EXPECT_GT(store.totals().evictions, 0u);
  EXPECT_EQ(owner->evicted.load(), store.totals().evictions);
}

TEST(StoreTest, PurgesByUrlPrefixAndTag) {
  Store store(16 << 20);
  store.insert(object("/img/a", 10, "", {"images", "a"}));
  store.insert(object("/img/b", 10, "", {"images"}));
  store.insert(object("/css/c", 10, "", {"styles"}));
  store.insert(object("/css/c", 10, "gzip", {"styles"}));
  EXPECT_EQ(store.purge(Store::PurgeBy::kUrl, "h/css/c"), 2u);
  EXPECT_EQ(store.purge(Store::PurgeBy::kTag, "a"), 1u);
  EXPECT_EQ(store.purge(Store::PurgeBy::kPrefix, "h/img/"), 1u);
  EXPECT_EQ(store.totals().objects, 0u);
  EXPECT_EQ(store.totals().purged, 4u);
}

TEST(StoreTest, TopListsBiggestAndHottest) {
  Store store(16 << 20);
  store.insert(object("/small", 10));
  store.insert(object("/big", 5000));
  ObjectPtr small = store.find("/small", any);
  small->count_hit();
  small->count_hit();
  auto biggest = store.top(Store::Order::kBiggest, 1);
  ASSERT_EQ(biggest.size(), 1u);
  EXPECT_EQ(biggest[0]->key(), "/big");
  auto hottest = store.top(Store::Order::kHottest, 5);
  ASSERT_EQ(hottest.size(), 2u);
  EXPECT_EQ(hottest[0]->key(), "/small");
}

TEST(StoreTest, OneLeaderPerKeyAndFollowersAreWokenOnce) {
  Store store(16 << 20);
  int woken = 0;
  EXPECT_EQ(store.join_fill("/a", [&] { ++woken; }), Store::FillRole::kLeader);
  EXPECT_EQ(store.join_fill("/a", [&] { ++woken; }), Store::FillRole::kFollower);
  EXPECT_EQ(store.join_fill("/a", [&] { ++woken; }), Store::FillRole::kFollower);
  EXPECT_EQ(store.join_fill("/b", [&] { ++woken; }), Store::FillRole::kLeader);
  EXPECT_EQ(store.totals().fills_in_progress, 2u);
  store.end_fill("/a");
  EXPECT_EQ(woken, 2);
  store.end_fill("/a");  // a second end changes nothing
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(store.join_fill("/a", [] {}), Store::FillRole::kLeader);
}

TEST(StoreTest, ThreadsShareOneStore) {
  Store store(16 << 20);
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string key = "/k" + std::to_string((i * 7 + t) % 300);
        if (store.find(key, any)) {
          found.fetch_add(1);
        } else {
          store.insert(object(key, 100));
        }
        if (i % 500 == 0) store.purge(Store::PurgeBy::kPrefix, "h/k1");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(found.load(), 0);
  EXPECT_LE(store.totals().objects, 300u);
}

}  // namespace
}  // namespace ballast::cache
