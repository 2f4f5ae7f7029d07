#pragma once
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "health/outlier_detector.h"
#include "lb/balancer.h"
#include "lb/balancer_factory.h"
#include "lb/slow_start.h"
#include "metrics/metrics_registry.h"
#include "proxy/circuit_breaker.h"
#include "proxy/membership.h"
#include "proxy/upstream.h"

namespace ballast::proxy {

// One worker's view of a target group: its targets, their connection pools and the
// balancer's per-target state. Owned by the worker thread; nothing here is shared.
//
// Targets live in positions ("slots") that stay put while the target is a member or
// still has requests in flight here, so a session may hold a position across a
// membership change. A new membership is matched to slots by target identity: a target
// that stays keeps its in-flight count, response-time average, slow-start clock,
// ejection and idle connections.
class TargetGroupRuntime {
 public:
  // A draining target's last request on this worker ended (or it had none): the
  // control thread removes it once every worker said so.
  using DrainedFn = std::function<void(uint64_t target_id, uint64_t version)>;

  // `config` is kept alive as long as the runtime uses it (a request's snapshot may hold the
  // runtime past the configuration that made it). `breaker`: the group's limits, shared by
  // the workers (null: none). Until apply() is called the group has the config's targets,
  // all healthy.
  // `metrics`: where this worker's (`worker`) counts for the group and its targets go
  // (null: counted privately, for tests).
  TargetGroupRuntime(core::EventLoop& loop, std::shared_ptr<const config::TargetGroupConfig> config,
                     std::shared_ptr<CircuitBreaker> breaker = nullptr,
                     metrics::MetricsRegistry* metrics = nullptr, unsigned worker = 0);
  ~TargetGroupRuntime();
  TargetGroupRuntime(const TargetGroupRuntime&) = delete;
  TargetGroupRuntime& operator=(const TargetGroupRuntime&) = delete;

  // A reload changed the group's settings (same name). `breaker` replaces the old one for
  // new requests and connections (those in progress hold the one they took a slot from).
  void reconfigure(std::shared_ptr<const config::TargetGroupConfig> config,
                   std::shared_ptr<CircuitBreaker> breaker);
  // The control thread published who the targets are, their weight, health and drain.
  void apply(const GroupMembership& membership);
  void on_drained(DrainedFn fn) { drained_ = std::move(fn); }
  // The positions the last apply() fenced (a database endpoint's member that must not be
  // reached any more): the worker closes the connections that hold them.
  const std::vector<size_t>& newly_fenced() const { return fenced_; }
  // tcp: whether a new connection may wait for a target (hold_ms), and whether one is
  // available now, for the worker to wake the connections that wait.
  bool holds_connections() const { return config_->hold_ms > 0; }
  bool has_usable_target() const;

  CircuitBreaker* breaker() const { return breaker_.get(); }
  const std::shared_ptr<CircuitBreaker>& shared_breaker() const { return breaker_; }
  const config::TargetGroupConfig& config() const { return *config_; }
  const std::string& name() const { return config_->name; }
  // Positions, members or not (a non-member may still finish requests).
  size_t size() const { return slots_.size(); }
  bool member(size_t i) const { return slots_[i].member; }

  // The position of the target for the next request, or -1 when none is available.
  int pick(const lb::PickContext& ctx);
  // Like pick(), never choosing one of `exclude` (the targets a request already tried).
  int pick_excluding(const lb::PickContext& ctx, std::span<const int> exclude);
  TargetPool& pool(size_t i) { return *slots_[i].pool; }
  const std::string& target_text(size_t i) const { return slots_[i].address_text; }
  uint64_t target_id(size_t i) const { return states_[i].id_hash; }
  // The usable target whose identity hash is `id` (a sticky cookie's value), or -1.
  int find_usable(uint64_t id);

  // With HTTP/1 each request in flight holds one upstream connection, so the two loads
  // move together (least_connections and least_outstanding_requests differ once
  // multiplexed upstreams arrive).
  metrics::GroupStats& stats() { return *stats_; }
  metrics::TargetStats& target_stats(size_t i) { return *slots_[i].stats; }
  // No target is healthy and the group routes to all of them (fail_open: true).
  bool failing_open() const { return failing_open_; }

  void request_started(size_t i) {
    slots_[i].stats->requests.add();
    slots_[i].stats->in_flight.add(1);
    states_[i].in_flight++;
    states_[i].connections++;
    ++active_requests_;
  }
  void request_finished(size_t i) {
    slots_[i].stats->in_flight.add(-1);
    states_[i].in_flight--;
    states_[i].connections--;
    --active_requests_;
    if (states_[i].in_flight == 0 && slots_[i].draining) report_drained(i);
  }

  // The retry budget (as Envoy's): a retry may start while the retries in progress stay
  // below retry_budget_percent of the requests in flight, or below retry_min_concurrency.
  bool retry_allowed() const;
  void retry_started() { ++active_retries_; }
  void retry_finished() { --active_retries_; }

  // Name of the stickiness cookie ("BALLAST_<group>" or "BALLASTAPP_<group>"); empty when
  // the group has no stickiness.
  const std::string& sticky_cookie_name() const { return sticky_cookie_name_; }
  bool uses_hash() const { return lb::uses_hash(config_->algorithm); }
  // least_time needs the time to first response byte of each request.
  bool measures_time() const { return config_->algorithm == lb::Algorithm::kLeastTime; }
  void record_response_time(size_t i, int64_t us);
  // Passive health: every finished exchange with target i reports whether it failed (a
  // 5xx response, a connection failure, a timeout, an invalid response).
  void record_outcome(size_t i, bool failed);
  // Shutdown: close idle upstream connections and keep no more.
  void close_idle();
  // How many balancers this group has built: one per change of its targets' positions or
  // weights (and per reload), none for a change of health or drain state alone.
  uint64_t balancer_builds() const { return balancer_builds_; }

 private:
  struct Slot {
    std::string address_text;
    core::SocketAddress address;
    std::unique_ptr<TargetPool> pool;  // null: the slot is free
    std::shared_ptr<metrics::TargetStats> stats;
    uint32_t base_weight = 0;
    bool member = false;
    health::TargetHealth health = health::TargetHealth::kInitial;  // as the membership says
    bool draining = false;
    bool drain_reported = false;
    uint64_t drain_version = 0;  // the membership that started the drain
  };

  // The position of member `m`: its own if it has one, else a free one or a new one.
  size_t slot_for(const Member& m, const std::unordered_map<uint64_t, size_t>& existing,
                  std::vector<size_t>& free_slots);
  void rebuild_balancer();
  // What a balancer is built from: each position's target identity (0: free) and weight.
  std::vector<std::pair<uint64_t, uint32_t>> balancer_inputs() const;
  void refresh_eligibility();
  void update_states();
  void report_drained(size_t i);

  std::shared_ptr<const config::TargetGroupConfig> config_;
  core::EventLoop& loop_;
  std::shared_ptr<CircuitBreaker> breaker_;
  std::vector<Slot> slots_;
  std::vector<lb::TargetState> states_;  // parallel to slots_, what the balancer reads
  std::vector<uint32_t> base_weights_;   // parallel to slots_; 0 for non-members
  std::vector<bool> usable_;             // healthy and not ejected, at the last refresh
  std::vector<size_t> fenced_;           // positions the last apply() fenced
  std::unique_ptr<lb::Balancer> balancer_;
  std::unique_ptr<health::OutlierDetector> outliers_;  // null unless configured
  std::unique_ptr<lb::SlowStart> slow_start_;          // null unless configured
  std::string sticky_cookie_name_;
  DrainedFn drained_;
  std::unique_ptr<metrics::MetricsRegistry> own_metrics_;  // when none was given
  metrics::MetricsRegistry* metrics_;
  unsigned worker_;
  std::shared_ptr<metrics::GroupStats> stats_;
  bool failing_open_ = false;
  uint64_t active_requests_ = 0;
  uint64_t active_retries_ = 0;
  uint64_t balancer_builds_ = 0;
};

// The membership a group's configuration describes, every target healthy and serving
// (before health checks or the API had a say).
GroupMembership membership_from_config(const config::TargetGroupConfig& group);

}  // namespace ballast::proxy
