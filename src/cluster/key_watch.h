#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "cluster/etcd_client.h"
#include "cluster/etcd_codec.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::cluster {

// What a KeyWatch keeps current: a copy of the keys under one prefix (ballast's cluster
// view, Patroni's keys of one cluster).
class WatchedKeys {
 public:
  virtual ~WatchedKeys() = default;
  virtual const std::string& prefix() const = 0;
  // The store revision the copy reflects (the watch starts after it).
  virtual int64_t revision() const = 0;
  // "" when `header` fits the store the copy came from, else why the copy must be read
  // again (the revision went back, the cluster id changed).
  virtual std::string inconsistency(const Header& header) const = 0;
  // A full read. `resynced`: why the store was not the one the copy knew ("": it was).
  virtual void load(const RangeReply& reply, const std::string& resynced) = 0;
  // One message of the watch stream: its events (maybe none) and its header.
  virtual void apply(const WatchMessage& message) = 0;
};

// Keeps a WatchedKeys current: a full read of the prefix, then one watch from the read's
// revision + 1. A compacted start revision, a broken stream or a store that went backwards
// (or changed identity) leads to a full read again, after a pause that grows from 0.5 s to
// 4 s while etcd stays away. Nothing here blocks: the data plane never waits on etcd.
class KeyWatch {
 public:
  // `what` names the watch in the log ("cluster", "database main").
  KeyWatch(core::EventLoop& loop, EtcdClient& etcd, WatchedKeys& keys, std::string what);
  ~KeyWatch();
  KeyWatch(const KeyWatch&) = delete;
  KeyWatch& operator=(const KeyWatch&) = delete;

  void start();
  // The connection seems dead (keepalives stopped coming back): read and watch again.
  void restart(const std::string& why);

  bool watching() const { return watching_; }
  const std::string& last_error() const { return last_error_; }
  int64_t resyncs() const { return resyncs_; }
  int64_t compactions() const { return compactions_; }

 private:
  void read_all();
  void open_watch();
  void on_chunk(std::string_view data);
  void on_message(const nlohmann::json& message);
  void broken(const std::string& why);
  void retry_later();
  void close_stream();
  static void on_retry(void* self);

  core::EventLoop& loop_;
  EtcdClient& etcd_;
  WatchedKeys& keys_;
  std::string what_;
  std::unique_ptr<http::HttpCall> stream_;
  std::string pending_;  // stream bytes not yet a whole message
  bool watching_ = false;
  bool reading_ = false;
  int64_t backoff_ms_ = 0;
  std::string last_error_;
  int64_t resyncs_ = 0;
  int64_t compactions_ = 0;
  // Replies of reads and streams started before a restart are ignored by generation.
  uint64_t generation_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::Timer retry_timer_{&KeyWatch::on_retry, this};
};

}  // namespace ballast::cluster
