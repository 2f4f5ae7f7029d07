#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/cluster_view.h"
#include "cluster/etcd_client.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::cluster {

// Keeps a ClusterView current: a full read of the prefix, then one watch from the read's
// revision + 1. A compacted start revision, a broken stream or a store that went backwards
// (or changed identity) leads to a full read again, after a pause that grows from 0.5 s to
// 4 s while etcd stays away. Nothing here blocks: the data plane never waits on etcd.
class ClusterWatch {
 public:
  struct Callbacks {
    // The configuration key has a new value (`view.config()`).
    std::function<void()> config_changed;
    // The configuration key was deleted: the node keeps serving what it has.
    std::function<void()> config_deleted;
    // The store is not the one the node knew (why); the node resyncs from it and raises
    // an alarm.
    std::function<void(const std::string&)> resynced;
    // Membership or leadership keys changed.
    std::function<void()> members_changed;
    // Registered targets changed (after a full read: they may have).
    std::function<void()> targets_changed;
    // The view has caught up with a new store revision (after each message and read).
    std::function<void()> progressed;
  };
  ClusterWatch(core::EventLoop& loop, EtcdClient& etcd, ClusterView& view, Callbacks callbacks);
  ~ClusterWatch();
  ClusterWatch(const ClusterWatch&) = delete;
  ClusterWatch& operator=(const ClusterWatch&) = delete;

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
  ClusterView& view_;
  Callbacks callbacks_;
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
  core::Timer retry_timer_{&ClusterWatch::on_retry, this};
};

}  // namespace ballast::cluster
