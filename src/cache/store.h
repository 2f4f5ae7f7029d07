#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/disk_tier.h"
#include "cache/frequency_sketch.h"
#include "cache/object.h"
#include "core/thread_annotations.h"

namespace ballast::cache {

// The memory store, shared by every worker.
//
// Sixteen shards by key hash, each an LRU list behind its own mutex, held only for the
// list and index work of one lookup or insert (never while bytes move or a client waits).
// A shared store beats one per worker on both memory and hit ratio (a hot object is held
// once, and a miss on one worker is a hit on the next); nginx keeps its keys in shared
// memory behind a mutex and Varnish locks per object head, for the same reason. With 16
// shards and a handful of workers, two workers rarely want one shard at once.
//
// Admission is TinyLFU: when an insert would evict, the newcomer must have been asked for
// more often than each object it would push out, or it is not stored. Each shard has its own
// frequency sketch, counting every lookup of a key, hit or miss.
class Store {
 public:
  explicit Store(uint64_t capacity_bytes);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The optional disk tier: every stored object is also written there, and a memory miss
  // looks there before it is a miss. Attached once, before any other thread uses the store.
  void attach_disk(std::unique_ptr<DiskTier> disk) { disk_ = std::move(disk); }
  DiskTier* disk() const { return disk_.get(); }

  // A reload may change it; a smaller store evicts down to it at once.
  void set_capacity(uint64_t bytes);
  uint64_t capacity() const { return capacity_.load(std::memory_order_relaxed); }
  // The largest object a shard can take (a sixteenth of the capacity).
  uint64_t max_object_charge() const { return capacity() / kShards; }

  // The stored variant of `key` that `accepts` takes (called under the shard's lock, once
  // per variant), moved to the front of its LRU list; or, on a memory miss, the disk tier's
  // (read, and stored in memory again); or null. Counts the access.
  ObjectPtr find(std::string_view key, const std::function<bool(const Object&)>& accepts);

  enum class Outcome { kStored, kNotAdmitted, kTooLarge };
  // Stores `object`, replacing the variant of its key with the same selection (and queues
  // it for the disk tier).
  Outcome insert(ObjectPtr object);
  // Drops every variant of `key` (an unsafe request changed the resource: RFC 9111 4.4).
  size_t remove(std::string_view key);

  // Purges, by exact URL (host and target), by URL prefix, or by tag: the number dropped
  // from memory (and, in `from_disk`, the disk tier's files dropped).
  enum class PurgeBy { kUrl, kPrefix, kTag };
  size_t purge(PurgeBy by, std::string_view value, size_t* from_disk = nullptr);

  // Request coalescing: the first miss for a key fetches it (kLeader) and must call
  // end_fill(); later misses (kFollower) are woken by end_fill() through `wake` (called
  // outside the shard's lock, from the leader's thread) and look again.
  enum class FillRole { kLeader, kFollower };
  FillRole join_fill(std::string_view key, std::function<void()> wake);
  void end_fill(std::string_view key);

  struct Totals {
    uint64_t objects = 0;
    uint64_t bytes = 0;
    uint64_t evictions = 0;     // pushed out for room
    uint64_t not_admitted = 0;  // refused by the admission filter
    uint64_t purged = 0;
    uint64_t fills_in_progress = 0;
  };
  Totals totals() const;

  // The largest (or most served) objects, at most `limit`.
  enum class Order { kBiggest, kHottest };
  std::vector<ObjectPtr> top(Order order, size_t limit) const;

  static constexpr size_t kShards = 16;

 private:
  struct Fill {
    std::vector<std::function<void()>> waiters;
  };
  struct Shard {
    mutable core::Mutex mu;                   // mutable: totals() and top() lock it too
    std::list<ObjectPtr> lru GUARDED_BY(mu);  // front: most recently used
    // By key hash: the LRU positions of every variant of every key with that hash.
    std::unordered_map<uint64_t, std::vector<std::list<ObjectPtr>::iterator>> index GUARDED_BY(mu);
    std::unordered_map<std::string, Fill> fills GUARDED_BY(mu);
    std::unique_ptr<FrequencySketch> sketch GUARDED_BY(mu);
    uint64_t bytes GUARDED_BY(mu) = 0;
    uint64_t evictions GUARDED_BY(mu) = 0;
    uint64_t not_admitted GUARDED_BY(mu) = 0;
    uint64_t purged GUARDED_BY(mu) = 0;
  };

  Shard& shard_of(uint64_t hash) { return shards_[hash >> 60]; }
  uint64_t shard_capacity() const { return capacity() / kShards; }
  void unlink(Shard& s, std::list<ObjectPtr>::iterator it) REQUIRES(s.mu);
  // Unlinks for room, counting it (for the store and the object's owner).
  void evict(Shard& s, std::list<ObjectPtr>::iterator it) REQUIRES(s.mu);
  // Evicts from the LRU end until `room` more bytes fit; false (nothing evicted beyond the
  // victims that lost) when a victim was asked for more often than `frequency`.
  bool make_room(Shard& s, uint64_t room, unsigned frequency) REQUIRES(s.mu);
  template <typename Drop>
  size_t purge_where(Drop drop);

  Outcome insert_in_memory(const ObjectPtr& object);

  std::atomic<uint64_t> capacity_;
  std::array<Shard, kShards> shards_;
  std::unique_ptr<DiskTier> disk_;
};

}  // namespace ballast::cache
