#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "health/health_board.h"
#include "health/outlier_detector.h"
#include "lb/balancer.h"
#include "lb/balancer_factory.h"
#include "lb/slow_start.h"
#include "proxy/circuit_breaker.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

// One worker's view of a target group: its targets, their connection pools and the
// balancer's per-target state. Owned by the worker thread; nothing here is shared.
class TargetGroupRuntime {
 public:
  // `board`: the targets' health from active checks, or null when the group has none.
  // `breaker`: the group's limits, shared by the workers (null: none).
  TargetGroupRuntime(core::EventLoop& loop, const config::TargetGroupConfig& config,
                     const health::HealthBoard* board = nullptr, CircuitBreaker* breaker = nullptr);
  CircuitBreaker* breaker() const { return breaker_; }

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
    ++active_requests_;
  }
  void request_finished(size_t i) {
    states_[i].in_flight--;
    states_[i].connections--;
    --active_requests_;
  }
  // Like pick(), never choosing one of `exclude` (the targets a request already tried).
  int pick_excluding(const lb::PickContext& ctx, std::span<const int> exclude);
  // The retry budget (as Envoy's): a retry may start while the retries in progress stay
  // below retry_budget_percent of the requests in flight, or below retry_min_concurrency.
  bool retry_allowed() const;
  void retry_started() { ++active_retries_; }
  void retry_finished() { --active_retries_; }
  // The usable target whose identity hash is `id` (a sticky cookie's value), or -1.
  int find_usable(uint64_t id);
  uint64_t target_id(size_t i) const { return states_[i].id_hash; }
  // Name of the stickiness cookie ("BALLAST_<group>" or "BALLASTAPP_<group>"); empty when
  // the group has no stickiness.
  const std::string& sticky_cookie_name() const { return sticky_cookie_name_; }
  bool uses_hash() const { return lb::uses_hash(config_.algorithm); }
  // least_time needs the time to first response byte of each request.
  bool measures_time() const { return config_.algorithm == lb::Algorithm::kLeastTime; }
  void record_response_time(size_t i, int64_t us);
  // Passive health: every finished exchange with target i reports whether it failed (a
  // 5xx response, a connection failure, a timeout, an invalid response).
  void record_outcome(size_t i, bool failed);
  void close_idle();

 private:
  void refresh_eligibility();
  void update_states();

  const config::TargetGroupConfig& config_;
  std::vector<std::unique_ptr<TargetPool>> pools_;
  std::vector<lb::TargetState> states_;
  std::unique_ptr<lb::Balancer> balancer_;
  core::EventLoop& loop_;
  const health::HealthBoard* board_;
  CircuitBreaker* breaker_;
  std::unique_ptr<health::OutlierDetector> outliers_;  // null unless configured
  std::unique_ptr<lb::SlowStart> slow_start_;          // null unless configured
  std::vector<uint32_t> base_weights_;
  std::string sticky_cookie_name_;
  std::vector<bool> usable_;  // healthy and not ejected, at the last refresh
  uint64_t active_requests_ = 0;
  uint64_t active_retries_ = 0;
  uint64_t seen_generation_ = 0;
};

}  // namespace ballast::proxy
