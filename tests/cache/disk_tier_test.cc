#include "cache/disk_tier.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cache/store.h"

namespace ballast::cache {
namespace {

std::string temp_dir() {
  char templ[] = "/tmp/ballast-disk-tier-XXXXXX";
  return mkdtemp(templ);
}

ObjectPtr object(std::string key, std::string body, std::string variant = {},
                 std::vector<std::string> tags = {}) {
  Object::Parts p;
  p.url = "h" + key;
  p.key = std::move(key);
  p.variant = std::move(variant);
  p.vary = p.variant.empty() ? std::vector<std::string>{} : std::vector<std::string>{"Accept"};
  p.tags = std::move(tags);
  p.reason = "OK";
  p.fields = "Cache-Control: max-age=60\r\nETag: \"d1\"\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
  p.body = std::move(body);
  p.freshness.age_value = 7;
  p.freshness.request_time = 784111770;
  p.freshness.response_time = 784111777;
  return Object::make(std::move(p));
}

auto any_variant = [](const Object&) { return true; };

// Each test gets a folder of its own, removed afterwards.
class DiskTierTest : public ::testing::Test {
 protected:
  ~DiskTierTest() override { std::filesystem::remove_all(dir); }
  std::string dir = temp_dir();
};

size_t files_in(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST_F(DiskTierTest, WhatIsWrittenIsReadBackAfterAReopen) {
  std::string error;
  {
    auto tier = DiskTier::open(dir, 1 << 20, &error);
    ASSERT_TRUE(tier) << error;
    tier->put(object("/a", "alpha", "", {"t1"}));
    tier->put(object("/b", std::string(5000, 'b'), "text/html"));
    tier->put(object("/b", "other variant", "application/json"));
    tier->flush();
    EXPECT_EQ(tier->totals().objects, 3u);
    EXPECT_EQ(tier->totals().writes, 3u);
  }
  auto tier = DiskTier::open(dir, 1 << 20, &error);
  ASSERT_TRUE(tier) << error;
  EXPECT_EQ(tier->totals().objects, 3u) << "indexed from the folder";
  ObjectPtr a = tier->get("/a", any_variant);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->body(), "alpha");
  EXPECT_EQ(a->url(), "h/a");
  EXPECT_EQ(a->tags(), std::vector<std::string>{"t1"});
  EXPECT_EQ(a->etag(), "\"d1\"");
  EXPECT_EQ(a->head().reason, "OK");
  EXPECT_EQ(a->freshness().age_value, 7);
  EXPECT_EQ(a->freshness().response_time, 784111777);
  EXPECT_EQ(a->freshness().cc.max_age, 60) << "freshness worked out again from the fields";
  ObjectPtr json =
      tier->get("/b", [](const Object& o) { return o.variant() == "application/json"; });
  ASSERT_NE(json, nullptr);
  EXPECT_EQ(json->body(), "other variant");
  EXPECT_EQ(tier->get("/c", any_variant), nullptr);
  EXPECT_EQ(tier->totals().reads, 2u);
}

TEST_F(DiskTierTest, BrokenFilesAreDeletedWhenTheFolderIsScanned) {
  std::string error;
  {
    auto tier = DiskTier::open(dir, 1 << 20, &error);
    ASSERT_TRUE(tier) << error;
    tier->put(object("/whole", "whole"));
    tier->put(object("/cut", std::string(1000, 'c')));
    tier->flush();
  }
  // Cut one file short, and leave a stranger and a half-written temporary file.
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (std::filesystem::file_size(e.path()) > 1000) std::filesystem::resize_file(e.path(), 500);
  }
  std::ofstream(dir + "/stranger") << "not a cache file";
  std::ofstream(dir + "/tmp/0000-0000") << "half";
  auto tier = DiskTier::open(dir, 1 << 20, &error);
  ASSERT_TRUE(tier) << error;
  EXPECT_EQ(tier->totals().objects, 1u);
  EXPECT_EQ(files_in(dir), 1u);
  EXPECT_EQ(files_in(dir + "/tmp"), 0u);
  EXPECT_NE(tier->get("/whole", any_variant), nullptr);
  EXPECT_EQ(tier->get("/cut", any_variant), nullptr);
}

TEST_F(DiskTierTest, TheOldestFilesGoBeyondTheSize) {
  std::string error;
  auto tier = DiskTier::open(dir, 10 * 1024, &error);
  ASSERT_TRUE(tier) << error;
  for (int i = 0; i < 10; ++i) {
    tier->put(object("/o" + std::to_string(i), std::string(2000, 'x')));
    tier->flush();
  }
  EXPECT_LE(tier->totals().bytes, 10u * 1024);
  EXPECT_GT(tier->totals().evictions, 0u);
  EXPECT_EQ(files_in(dir), tier->totals().objects);
  EXPECT_EQ(tier->get("/o0", any_variant), nullptr);
  EXPECT_NE(tier->get("/o9", any_variant), nullptr);
}

TEST_F(DiskTierTest, DropRemovesFilesAndQueuedWrites) {
  std::string error;
  auto tier = DiskTier::open(dir, 1 << 20, &error);
  ASSERT_TRUE(tier) << error;
  auto images = [](std::string_view, std::string_view url, const auto&) {
    return url.starts_with("h/img/");
  };
  tier->put(object("/img/a", "a", "", {"images"}));
  tier->put(object("/img/b", "b"));
  tier->put(object("/css/c", "c"));
  tier->flush();
  EXPECT_EQ(tier->drop(images), 2u) << "both files written, both dropped";
  // Dropped while still queued (or being written): never written afterwards.
  tier->put(object("/img/a", "again"));
  tier->drop(images);
  tier->flush();
  EXPECT_EQ(tier->get("/img/a", any_variant), nullptr);
  EXPECT_EQ(tier->get("/img/b", any_variant), nullptr);
  EXPECT_NE(tier->get("/css/c", any_variant), nullptr);
  EXPECT_EQ(files_in(dir), 1u);
}

TEST_F(DiskTierTest, AnUnusableFolderIsAnError) {
  std::string error;
  EXPECT_EQ(DiskTier::open("/proc/no/such/place", 1 << 20, &error), nullptr);
  EXPECT_NE(error.find("cannot create the cache folder /proc/no/such/place"), std::string::npos)
      << error;
}

TEST_F(DiskTierTest, TheStoreReadsAMemoryMissFromDiskAndPurgesBoth) {
  std::string error;
  {
    Store store(16 << 20);
    store.attach_disk(DiskTier::open(dir, 1 << 20, &error));
    ASSERT_NE(store.disk(), nullptr) << error;
    store.insert(object("/kept", "kept body", "", {"tag"}));
    store.insert(object("/purged", "purged body", "", {"tag"}));
    store.disk()->flush();
  }
  Store store(16 << 20);  // a restart: memory is empty
  store.attach_disk(DiskTier::open(dir, 1 << 20, &error));
  ObjectPtr kept = store.find("/kept", any_variant);
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->body(), "kept body");
  EXPECT_EQ(store.totals().objects, 1u) << "read back into memory";
  size_t from_disk = 0;
  EXPECT_EQ(store.purge(Store::PurgeBy::kUrl, "h/purged", &from_disk), 0u);
  EXPECT_EQ(from_disk, 1u);
  EXPECT_EQ(store.find("/purged", any_variant), nullptr) << "gone from both tiers";
  EXPECT_EQ(store.purge(Store::PurgeBy::kTag, "tag", &from_disk), 1u);
  EXPECT_EQ(from_disk, 1u);
  EXPECT_EQ(store.find("/kept", any_variant), nullptr);
}

}  // namespace
}  // namespace ballast::cache
