#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cluster/etcd_client.h"
#include "cluster/etcd_codec.h"
#include "cluster/leader_lease.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::cluster {

// One leader among the nodes, for the autoscaler (Patroni's etcd3 leader key): a lease of
// 5 s renewed every 1.5 s, and a transaction that creates the leader key under it only if
// no leader key exists. The key's create revision is the fencing token. Followers campaign
// as soon as the key goes (a leader's lease expired, or it resigned on a clean shutdown).
class LeaderElection {
 public:
  static constexpr int64_t kTtlSeconds = 5;
  static constexpr int64_t kRenewMs = 1500;
  static constexpr int64_t kMarginMs = 500;

  // `changed(true)` when this node starts acting as leader, `changed(false)` when it stops.
  LeaderElection(core::EventLoop& loop, EtcdClient& etcd, std::string key, std::string node,
                 std::function<void(bool)> changed);
  ~LeaderElection();
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  void start();
  // What the watch says of the leader key (nullopt: there is none) as of store revision
  // `revision` (a view older than this node's win says nothing about it).
  void observe(const std::optional<KeyValue>& leader, int64_t revision);
  // Every control tick: stops acting once the lease may have run out.
  void check(int64_t now_ms);
  // Hands leadership over at once (a clean shutdown): the lease is revoked, and the key
  // with it. Blocks up to `timeout_ms`.
  void resign(int64_t timeout_ms);

  bool acting(int64_t now_ms) const { return lease_.acting(now_ms); }
  int64_t token() const { return lease_.token(); }
  // The leader's node name as last seen ("" when none).
  const std::string& leader() const { return leader_; }

 private:
  void grant();
  void campaign();
  void try_lead();  // the transaction, under lease_id_
  void renew();
  void step_down(const std::string& why);
  static void on_timer(void* self);

  core::EventLoop& loop_;
  EtcdClient& etcd_;
  std::string key_;
  std::string node_;
  std::function<void(bool)> changed_;
  LeaderLease lease_{kTtlSeconds * 1000, kMarginMs};
  int64_t lease_id_ = 0;
  bool busy_ = false;  // a grant, campaign or renewal is in flight
  std::string leader_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::Timer timer_{&LeaderElection::on_timer, this};
};

}  // namespace ballast::cluster
