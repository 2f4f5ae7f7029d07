#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/etcd_client.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::cluster {

// A node's presence in its cluster: a lease that the node keeps alive, and its key
// (/ballast/nodes/NAME, what the node says about itself) under that lease, so that a node
// that dies leaves the list within the lease's TTL. It is also how a node knows that etcd
// answers: the keepalives are its heartbeat.
class Membership {
 public:
  // `reachable(true|false)` runs when etcd starts or stops answering the keepalives.
  Membership(core::EventLoop& loop, EtcdClient& etcd, std::string key, std::string value,
             int64_t ttl_seconds, std::function<void(bool)> reachable);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  void start();
  // A clean shutdown: revokes the lease, so the node leaves the list at once. Blocks up to
  // `timeout_ms` on a loop of its own (the control loop has stopped by now).
  void leave_now(int64_t timeout_ms);

  bool reachable() const { return reachable_; }
  int64_t lease() const { return lease_; }
  // When etcd last answered a keepalive or a grant (loop time, ms; 0: never).
  int64_t last_contact_ms() const { return last_contact_ms_; }
  const std::string& last_error() const { return last_error_; }

 private:
  void grant();
  void register_key();
  void keepalive();
  void failed(const std::string& why);
  void contact();
  static void on_timer(void* self);

  core::EventLoop& loop_;
  EtcdClient& etcd_;
  std::string key_;
  std::string value_;
  int64_t ttl_seconds_;
  std::function<void(bool)> on_reachable_;
  int64_t lease_ = 0;
  bool registered_ = false;
  bool reachable_ = false;
  bool in_flight_ = false;
  int64_t last_contact_ms_ = 0;
  std::string last_error_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  core::Timer timer_{&Membership::on_timer, this};
};

}  // namespace ballast::cluster
