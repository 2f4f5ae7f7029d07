#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/cluster_view.h"
#include "cluster/etcd_client.h"
#include "cluster/key_watch.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::cluster {

// Keeps a ClusterView current through a KeyWatch of the cluster's prefix, and says what
// changed: the configuration, the membership and leadership keys, the registered targets.
class ClusterWatch final : private WatchedKeys {
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
    // Cache purges were asked (after a full read: there may be some).
    std::function<void()> purges_changed;
    // The view has caught up with a new store revision (after each message and read).
    std::function<void()> progressed;
  };
  ClusterWatch(core::EventLoop& loop, EtcdClient& etcd, ClusterView& view, Callbacks callbacks);
  ClusterWatch(const ClusterWatch&) = delete;
  ClusterWatch& operator=(const ClusterWatch&) = delete;

  void start() { watch_.start(); }
  // The connection seems dead (keepalives stopped coming back): read and watch again.
  void restart(const std::string& why) { watch_.restart(why); }

  bool watching() const { return watch_.watching(); }
  const std::string& last_error() const { return watch_.last_error(); }
  int64_t resyncs() const { return watch_.resyncs(); }
  int64_t compactions() const { return watch_.compactions(); }

 private:
  // WatchedKeys, over the view.
  const std::string& prefix() const override { return view_.keys().all; }
  int64_t revision() const override { return view_.revision(); }
  std::string inconsistency(const Header& header) const override {
    return view_.inconsistency(header);
  }
  void load(const RangeReply& reply, const std::string& resynced) override;
  void apply(const WatchMessage& message) override;

  ClusterView& view_;
  Callbacks callbacks_;
  KeyWatch watch_;
};

}  // namespace ballast::cluster
