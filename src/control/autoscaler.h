#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "admin/admin_server.h"
#include "admin/router.h"
#include "alarms/alarm_manager.h"
#include "config/config.h"
#include "control/cluster_traffic.h"
#include "control/target_registry.h"
#include "core/event_loop.h"
#include "metrics/count_deltas.h"
#include "metrics/prometheus.h"
#include "metrics/time_series.h"
#include "metrics/totals.h"
#include "scale/scaling_group.h"
#include "scale/scaling_policies.h"
#include "scale/scheduled_actions.h"

namespace ballast::control {

// The control thread's autoscaling: every autoscaling group of the configuration with
// its policies and scheduled actions, wired to the target registry (instances join and
// leave target groups there), the metrics store (policies read it; the groups' own
// series are written to it) and the alarms (step and simple scaling follow them).
class Autoscaler final : public scale::TargetGroupLink,
                         public scale::MetricReader,
                         public scale::AlarmView {
 public:
  // `changed` publishes memberships and health checkers after registrations.
  Autoscaler(core::EventLoop& loop, TargetRegistry& registry, metrics::TimeSeriesStore& store,
             const alarms::AlarmManager& alarms, std::function<void()> changed);
  ~Autoscaler() override;

  // Groups are matched by name: a group that stays keeps its instances.
  void configure(const config::Config& config, int64_t unix_ms);
  // Every control tick (100 ms): lifecycles and providers.
  void tick(int64_t now_ms, int64_t unix_ms);
  // Once a second, after the metrics of `second` are in: the groups' series, then the
  // policies and scheduled actions.
  void sample(int64_t second, const metrics::Totals& totals, int64_t now_ms);
  // Shutdown: every instance is stopped.
  void stop_all();

  // A node of a cluster: instances join and leave their target groups through etcd (every
  // node routes to them), and exec commands get the leader's fencing token.
  struct ClusterLink {
    std::function<void(const std::string& group, const std::string& address, bool join)> join;
    std::function<int64_t()> fencing_token;
    // Whether most nodes' checks find this instance failing: only then is it replaced, so
    // that one node's broken network does not recycle a healthy fleet.
    std::function<bool(const std::string& group, const std::string& address)> most_see_failing;
    // Whether the group's state in etcd lists this instance yet: an instance that outlives
    // ballast is launched only then, so that a successor finds every launch.
    std::function<bool(const std::string& group, const std::string& instance_id)> recorded;
    // What the other nodes send to a target: requests since the last call, and in flight.
    std::function<ClusterTraffic::Share(const std::string& target_group,
                                        const std::string& address)>
        peer_traffic;
    // The whole cluster's series (cluster_series.h): latency and custom metrics are read
    // there, two seconds behind, when every node's figures are in. None: this node's own.
    const metrics::TimeSeriesStore* series = nullptr;
  };
  void set_cluster_link(ClusterLink link);
  // What the leader keeps in etcd for its successor: the group's desired capacity, its
  // instances with their intent (docs/cluster.md), and its policies' cooldowns.
  nlohmann::json state_of(const std::string& group, int64_t now_ms, int64_t unix_ms) const;
  std::vector<std::string> group_names() const;
  // A new leader goes on from its predecessor's state: the desired capacity (clamped to the
  // group's sizes), the cooldowns, and the instances that outlive ballast, adopted. Returns
  // the adopted instances' targets (they stay).
  struct Target {
    std::string group;  // the target group
    std::string address;
  };
  std::vector<Target> take_over(const std::string& group, const nlohmann::json& state,
                                const std::string& cause, int64_t now_ms, int64_t unix_ms);
  // This node no longer leads: instances that outlive ballast are left to the successor;
  // this node's own processes serve until the successor has removed their targets.
  void step_down(const std::string& cause, int64_t unix_ms);
  // A cluster node shutting down: its own processes stop, the rest are left to a successor.
  void leave_to_successor(int64_t unix_ms);

  // The admin API's routes under /api/v1/autoscaling-groups (autoscaler_api.cc).
  void add_routes(admin::Router& router);
  nlohmann::json groups_json() const;
  // The groups' sizes and instance counts by state, for GET /metrics.
  void write_prometheus(metrics::PrometheusWriter& w) const;

  // TargetGroupLink
  void register_target(const std::string& group, const std::string& address) override;
  void deregister_target(const std::string& group, const std::string& address) override;
  std::optional<health::TargetHealth> health(const std::string& group,
                                             const std::string& address) const override;
  // MetricReader
  std::optional<double> read(const scale::ScalingGroup& group,
                             const config::ScalingPolicyConfig& policy, int64_t from_s,
                             int64_t to_s) override;
  // AlarmView
  std::optional<scale::AlarmReading> alarm(const std::string& name) const override;

 private:
  struct Managed {
    std::unique_ptr<scale::ScalingGroup> group;
    std::unique_ptr<scale::ScalingPolicies> policies;
    std::unique_ptr<scale::ScheduledActions> scheduled;
  };
  std::shared_ptr<scale::Provider> make_provider(const config::LaunchConfig& launch,
                                                 const std::string& group);
  void record_series(const scale::ScalingGroup& g, int64_t second, const metrics::Totals& totals,
                     int64_t now_ms);
  nlohmann::json group_json(const Managed& m, bool detail) const;
  Managed* find(const std::string& name);
  void set_launch_gate(const std::string& name, scale::ScalingGroup& group);
  // The group named in an API path (a 404 when there is none).
  Managed& managed_named(const std::string& name);

  core::EventLoop& loop_;
  TargetRegistry& registry_;
  metrics::TimeSeriesStore& store_;
  const alarms::AlarmManager& alarms_;
  std::function<void()> changed_;
  std::string ballast_path_;
  std::map<std::string, Managed> groups_;
  // Groups removed by a reload, draining and terminating their instances.
  std::vector<std::unique_ptr<scale::ScalingGroup>> retiring_;
  // Each counted target's requests per second, by (group, address).
  metrics::CountDeltas<std::pair<std::string, std::string>> requests_;
  ClusterLink cluster_;  // empty outside a cluster
};

}  // namespace ballast::control
