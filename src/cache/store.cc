#include "cache/store.h"

#include <algorithm>

namespace ballast::cache {

namespace {
// About how many objects a shard of `bytes` holds, for its sketch's size: objects of a few
// KiB are what web caches mostly hold.
size_t expected_objects(uint64_t shard_bytes) {
  return static_cast<size_t>(std::clamp<uint64_t>(shard_bytes / 4096, 64, uint64_t{1} << 20));
}
}  // namespace

Store::Store(uint64_t capacity_bytes) : capacity_(capacity_bytes) {
  for (Shard& s : shards_) {
    core::MutexLock lock(s.mu);
    s.sketch = std::make_unique<FrequencySketch>(expected_objects(shard_capacity()));
  }
}

void Store::set_capacity(uint64_t bytes) {
  capacity_.store(bytes, std::memory_order_relaxed);
  for (Shard& s : shards_) {
    core::MutexLock lock(s.mu);
    while (s.bytes > shard_capacity() && !s.lru.empty()) {
      evict(s, std::prev(s.lru.end()));
    }
  }
}

void Store::unlink(Shard& s, std::list<ObjectPtr>::iterator it) {
  auto bucket = s.index.find((*it)->hash());
  if (bucket != s.index.end()) {
    auto& positions = bucket->second;
    positions.erase(std::remove(positions.begin(), positions.end(), it), positions.end());
    if (positions.empty()) s.index.erase(bucket);
  }
  s.bytes -= (*it)->charge();
  s.lru.erase(it);
}

void Store::evict(Shard& s, std::list<ObjectPtr>::iterator it) {
  if (OwnerCounts* owner = (*it)->owner()) owner->evicted.fetch_add(1, std::memory_order_relaxed);
  unlink(s, it);
  ++s.evictions;
}

ObjectPtr Store::find(std::string_view key, const std::function<bool(const Object&)>& accepts) {
  uint64_t hash = Object::hash_key(key);
  Shard& s = shard_of(hash);
  {
    core::MutexLock lock(s.mu);
    s.sketch->increment(hash);
    if (auto bucket = s.index.find(hash); bucket != s.index.end()) {
      for (auto it : bucket->second) {
        const Object& o = **it;
        if (o.key() != key || !accepts(o)) continue;
        s.lru.splice(s.lru.begin(), s.lru, it);
        return *it;
      }
    }
  }
  if (!disk_) return nullptr;
  // Read without the shard's lock: other workers' lookups do not wait for the file.
  ObjectPtr from_disk = disk_->get(key, accepts);
  if (from_disk) insert_in_memory(from_disk);
  return from_disk;
}

bool Store::make_room(Shard& s, uint64_t room, unsigned frequency) {
  while (s.bytes + room > shard_capacity() && !s.lru.empty()) {
    auto victim = std::prev(s.lru.end());
    // TinyLFU: the newcomer must be wanted more than what it replaces. A tie keeps the
    // incumbent, so a scan of keys asked for once never displaces anything.
    if (s.sketch->estimate((*victim)->hash()) >= frequency) return false;
    evict(s, victim);
  }
  return s.bytes + room <= shard_capacity();
}

Store::Outcome Store::insert(ObjectPtr object) {
  Outcome outcome = insert_in_memory(object);
  // Written even when memory had no room for it: the disk is the larger tier.
  if (disk_ && outcome != Outcome::kTooLarge) disk_->put(std::move(object));
  return outcome;
}

Store::Outcome Store::insert_in_memory(const ObjectPtr& object) {
  Shard& s = shard_of(object->hash());
  core::MutexLock lock(s.mu);
  if (object->charge() > shard_capacity()) return Outcome::kTooLarge;
  bool replaces = false;
  if (auto bucket = s.index.find(object->hash()); bucket != s.index.end()) {
    for (auto it : bucket->second) {
      if ((*it)->key() == object->key() && (*it)->variant() == object->variant()) {
        unlink(s, it);  // `bucket` may be gone now: leave the loop at once
        replaces = true;
        break;
      }
    }
  }
  // A new version of a stored variant was admitted already: it needs room, not a vote.
  unsigned frequency = replaces ? 16 : s.sketch->estimate(object->hash());
  if (!make_room(s, object->charge(), frequency)) {
    ++s.not_admitted;
    return Outcome::kNotAdmitted;
  }
  s.lru.push_front(object);
  s.index[object->hash()].push_back(s.lru.begin());
  s.bytes += object->charge();
  return Outcome::kStored;
}

size_t Store::remove(std::string_view key) {
  if (disk_)
    disk_->drop([&](std::string_view k, std::string_view, const auto&) { return k == key; });
  uint64_t hash = Object::hash_key(key);
  Shard& s = shard_of(hash);
  core::MutexLock lock(s.mu);
  size_t removed = 0;
  auto bucket = s.index.find(hash);
  while (bucket != s.index.end()) {
    auto& positions = bucket->second;
    auto it = std::find_if(positions.begin(), positions.end(),
                           [&](const auto& p) { return (*p)->key() == key; });
    if (it == positions.end()) break;
    unlink(s, *it);
    ++removed;
    bucket = s.index.find(hash);
  }
  return removed;
}

template <typename Drop>
size_t Store::purge_where(Drop drop) {
  size_t dropped = 0;
  for (Shard& s : shards_) {
    core::MutexLock lock(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      auto next = std::next(it);
      if (drop(**it)) {
        unlink(s, it);
        ++s.purged;
        ++dropped;
      }
      it = next;
    }
  }
  return dropped;
}

size_t Store::purge(PurgeBy by, std::string_view value, size_t* from_disk) {
  auto matches = [by, value](std::string_view url, const std::vector<std::string>& tags) {
    switch (by) {
      case PurgeBy::kUrl:
        return url == value;
      case PurgeBy::kPrefix:
        return url.starts_with(value);
      case PurgeBy::kTag:
        return std::find(tags.begin(), tags.end(), value) != tags.end();
    }
    return false;
  };
  // The disk first: an object purged from memory must not come back from there.
  size_t disk =
      disk_ ? disk_->drop([&](std::string_view, std::string_view url,
                              const std::vector<std::string>& tags) { return matches(url, tags); })
            : 0;
  if (from_disk != nullptr) *from_disk = disk;
  return purge_where([&](const Object& o) { return matches(o.url(), o.tags()); });
}

Store::FillRole Store::join_fill(std::string_view key, std::function<void()> wake) {
  Shard& s = shard_of(Object::hash_key(key));
  core::MutexLock lock(s.mu);
  auto [it, inserted] = s.fills.try_emplace(std::string(key));
  if (inserted) return FillRole::kLeader;
  it->second.waiters.push_back(std::move(wake));
  return FillRole::kFollower;
}

void Store::end_fill(std::string_view key) {
  Shard& s = shard_of(Object::hash_key(key));
  std::vector<std::function<void()>> waiters;
  {
    core::MutexLock lock(s.mu);
    auto it = s.fills.find(std::string(key));
    if (it == s.fills.end()) return;
    waiters = std::move(it->second.waiters);
    s.fills.erase(it);
  }
  for (auto& wake : waiters) wake();
}

Store::Totals Store::totals() const {
  Totals t;
  for (const Shard& s : shards_) {
    core::MutexLock lock(s.mu);
    t.objects += s.lru.size();
    t.bytes += s.bytes;
    t.evictions += s.evictions;
    t.not_admitted += s.not_admitted;
    t.purged += s.purged;
    t.fills_in_progress += s.fills.size();
  }
  return t;
}

std::vector<ObjectPtr> Store::top(Order order, size_t limit) const {
  std::vector<ObjectPtr> all;
  for (const Shard& s : shards_) {
    core::MutexLock lock(s.mu);
    all.insert(all.end(), s.lru.begin(), s.lru.end());
  }
  auto greater = [order](const ObjectPtr& a, const ObjectPtr& b) {
    return order == Order::kBiggest ? a->charge() > b->charge() : a->hits() > b->hits();
  };
  size_t n = std::min(limit, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<ptrdiff_t>(n), all.end(), greater);
  all.resize(n);
  return all;
}

}  // namespace ballast::cache
