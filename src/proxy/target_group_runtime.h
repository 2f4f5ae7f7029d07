#pragma once
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "lb/balancer.h"
#include "lb/balancer_factory.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

// One worker's view of a target group: its targets, their connection pools and the
// balancer's per-target state. Owned by the worker thread; nothing here is shared.
class TargetGroupRuntime {
 public:
  TargetGroupRuntime(core::EventLoop& loop, const config::TargetGroupConfig& config);

  const config::TargetGroupConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  size_t size() const { return pools_.size(); }

  // The position of the target for the next request, or -1 when none is available.
  int pick(const lb::PickContext& ctx);
  TargetPool& pool(size_t i) { return *pools_[i]; }
  const std::string& target_text(size_t i) const { return config_.targets[i].address_text; }

  // With HTTP/1 each request in flight holds one upstream connection, so the two loads
  // move together (least_connections and least_outstanding_requests differ once
  // multiplexed upstreams arrive).
  void request_started(size_t i) {
    states_[i].in_flight++;
    states_[i].connections++;
  }
  void request_finished(size_t i) {
    states_[i].in_flight--;
    states_[i].connections--;
  }
  bool uses_hash() const { return lb::uses_hash(config_.algorithm); }
  // least_time needs the time to first response byte of each request.
  bool measures_time() const { return config_.algorithm == lb::Algorithm::kLeastTime; }
  void record_response_time(size_t i, int64_t us);
  void close_idle();
  uint64_t connections_opened() const;

 private:
  const config::TargetGroupConfig& config_;
  std::vector<std::unique_ptr<TargetPool>> pools_;
  std::vector<lb::TargetState> states_;
  std::unique_ptr<lb::Balancer> balancer_;
};

}  // namespace ballast::proxy
