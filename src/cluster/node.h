#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cluster/cluster_view.h"
#include "cluster/cluster_watch.h"
#include "cluster/etcd_client.h"
#include "cluster/leader_election.h"
#include "cluster/membership.h"
#include "cluster/snapshot.h"
#include "config/config.h"
#include "core/event_loop.h"

namespace ballast::cluster {

// One ballast node's side of its cluster, on the control thread's loop: its etcd client,
// its view of the cluster's keys kept by one watch, and its membership. It tells its owner
// (the controller) when the shared configuration changes; the owner applies it through
// the same path as a reload and saves the snapshot.
class Node {
 public:
  struct Events {
    // A new shared configuration: its text and its key's mod revision.
    std::function<void(const std::string& text, int64_t revision)> config;
    // The store is not the one the node knew: it read everything again (why).
    std::function<void(const std::string& why)> resynced;
    // The registered targets may have changed (view().targets()).
    std::function<void()> targets;
    // Cache purges may have been asked (view().purges()).
    std::function<void()> purges;
    // The view reached a new store revision.
    std::function<void()> progressed;
    // This node starts (true) or stops (false) leading the autoscaler.
    std::function<void(bool)> leadership;
  };
  // `self`: what this node says about itself in its membership key (JSON).
  Node(core::EventLoop& loop, const config::ClusterConfig& settings, std::string self,
       Events events);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // `from`: the snapshot the node started with (its configuration is in effect already).
  void start(const std::optional<Snapshot>& from, int64_t now_unix);
  // A clean shutdown: hands the leadership over and leaves the membership at once (both
  // leases revoked; bounded, blocking: the control loop has stopped).
  void leave();
  // Every control tick: the configuration's currency, and the leader's self-fencing.
  void tick(int64_t now_unix, int64_t now_ms);

  // The autoscaler's leadership.
  bool leading(int64_t now_ms) const { return election_->acting(now_ms); }
  int64_t fencing_token() const { return election_->token(); }
  const std::string& leader() const { return election_->leader(); }
  // Writes `ops` only while this node's leadership stands (the leader key's create revision
  // is still its token); `done(ok, why)`.
  void write_fenced(const std::vector<Operation>& ops,
                    std::function<void(bool, const std::string&)> done);
  // Puts `key` under this node's membership lease, so that it goes when the node does.
  // False (nothing sent) while the node has no lease; `done(ok)`.
  bool put_with_membership(const std::string& key, const std::string& value,
                           std::function<void(bool)> done);
  int64_t membership_lease() const { return membership_->lease(); }

  const ClusterView& view() const { return view_; }
  // etcd answers (keepalives come back) and the watch runs.
  bool connected() const { return membership_->reachable() && watch_->watching(); }
  bool reachable() const { return membership_->reachable(); }
  bool watching() const { return watch_->watching(); }
  // Seconds since the node last knew its configuration to be etcd's latest.
  int64_t config_age_seconds(int64_t now_unix) const;
  const std::string& endpoint() const { return etcd_->endpoint().host; }
  std::string last_error() const;
  int64_t resyncs() const { return watch_->resyncs(); }
  int64_t compactions() const { return watch_->compactions(); }
  const config::ClusterConfig& settings() const { return settings_; }
  EtcdClient& etcd() { return *etcd_; }

 private:
  core::EventLoop& loop_;
  config::ClusterConfig settings_;
  Events events_;
  std::unique_ptr<EtcdClient> etcd_;
  ClusterView view_;
  std::unique_ptr<ClusterWatch> watch_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<LeaderElection> election_;
  int64_t current_unix_ = 0;  // when the configuration was last known to be current
};

}  // namespace ballast::cluster
