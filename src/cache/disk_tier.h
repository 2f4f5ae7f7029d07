#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cache/object.h"
#include "core/thread_annotations.h"

namespace ballast::cache {

// The cache's optional second tier: every stored object also goes to a file of its own in
// one folder, so a restart starts warm. Writes happen on the tier's own thread, in order,
// from a bounded queue (when the disk cannot keep up, objects are simply not written). Reads
// happen on the asking worker, synchronously, as nginx's proxy_cache reads without aio: a
// memory miss that the disk holds costs a file read, usually from the page cache.
//
// A file holds a magic line, the length of its head, the head (key, URL, variant, Vary,
// tags, status, reason, fields, and the times its freshness is worked out from) and the
// body. It is written to a temporary name and renamed, so a crash leaves no half file
// under a real name; a file that does not parse is deleted when the folder is scanned.
class DiskTier {
 public:
  // Opens (creating if needed) `dir` and indexes the files in it, oldest dropped first when
  // they exceed `capacity_bytes`. Null with `error` when the folder cannot be used.
  static std::unique_ptr<DiskTier> open(const std::string& dir, uint64_t capacity_bytes,
                                        std::string* error);
  ~DiskTier();
  DiskTier(const DiskTier&) = delete;
  DiskTier& operator=(const DiskTier&) = delete;

  const std::string& dir() const { return dir_; }
  uint64_t capacity() const { return capacity_; }

  // Queues `object` to be written (replacing the file of its key and variant).
  void put(ObjectPtr object);
  // The stored variant of `key` that `accepts` takes, read from its file; or null.
  ObjectPtr get(std::string_view key, const std::function<bool(const Object&)>& accepts);
  // Drops what matches at once (files, index entries and queued writes), so that nothing
  // dropped is read or written afterwards; the number of files dropped.
  size_t drop(const std::function<bool(std::string_view key, std::string_view url,
                                       const std::vector<std::string>& tags)>& matches);

  struct Totals {
    uint64_t objects = 0;
    uint64_t bytes = 0;
    uint64_t reads = 0;        // objects read back into memory
    uint64_t writes = 0;       // files written
    uint64_t write_drops = 0;  // objects not written: the queue was full
    uint64_t evictions = 0;    // files removed for room
  };
  Totals totals() const;
  // Waits until every queued write is done (tests, shutdown).
  void flush();

 private:
  struct Entry {
    std::string file;  // name within dir_
    std::string key;
    std::string url;
    std::vector<std::string> tags;
    uint64_t bytes = 0;
  };
  using Lru = std::list<Entry>;

  DiskTier(std::string dir, uint64_t capacity);
  void scan();
  void run_writer();
  void write(const Object& object);
  void index_entry(Entry entry) REQUIRES(mu_);
  void unlink_entry(Lru::iterator it) REQUIRES(mu_);
  std::string file_name(const Object& object) const;

  std::string dir_;
  uint64_t capacity_;

  mutable core::Mutex mu_;   // the index
  Lru lru_ GUARDED_BY(mu_);  // front: most recently used
  std::unordered_map<std::string, Lru::iterator> by_file_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, std::vector<Lru::iterator>> by_key_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t reads_ GUARDED_BY(mu_) = 0;
  uint64_t writes_ GUARDED_BY(mu_) = 0;
  uint64_t write_drops_ GUARDED_BY(mu_) = 0;
  uint64_t evictions_ GUARDED_BY(mu_) = 0;

  // The writer's queue, and the write it is doing (in_flight_). Lock order: queue_mu_, mu_.
  core::Mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::deque<ObjectPtr> queue_ GUARDED_BY(queue_mu_);
  bool stopping_ GUARDED_BY(queue_mu_) = false;
  size_t in_flight_ GUARDED_BY(queue_mu_) = 0;
  std::thread writer_;

  static constexpr size_t kMaxQueued = 1024;
};

}  // namespace ballast::cache
