#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "health/target_health.h"
#include "scale/instance.h"
#include "scale/zone_health.h"

namespace ballast::scale {

// What a group needs of the target group its instances join (the controller's registry).
class TargetGroupLink {
 public:
  virtual ~TargetGroupLink() = default;
  virtual void register_target(const std::string& group, const std::string& address) = 0;
  // Deregisters with the target group's deregistration delay (draining first).
  virtual void deregister_target(const std::string& group, const std::string& address) = 0;
  // The target's state in its group, in the registry's words; nullopt when it is not
  // registered there.
  virtual std::optional<health::TargetHealth> health(const std::string& group,
                                                     const std::string& address) const = 0;
};

// Makes the provider a launch template names.
using ProviderFactory = std::function<std::shared_ptr<Provider>(const config::LaunchConfig&)>;

struct RefreshStatus {
  bool active = false;
  std::string status;  // InProgress, Successful, Cancelled ("" when none ran)
  int64_t start_unix_ms = 0;
  int64_t end_unix_ms = 0;
  uint64_t template_version = 0;
  int total = 0;     // instances to replace when it started
  int replaced = 0;  // done so far
  std::string cause;
  uint64_t activity = 0;
};

// An Auto Scaling group: keeps `desired` instances running, spread over its zones, and
// walks each through Pending -> InService -> Terminating -> Terminated. An instance is
// InService once it passes the target group's health check; one that fails it after the
// grace period, or ends on its own, is replaced. Terminating deregisters the target and
// waits for its drain before the provider stops it. Launch failures back off
// exponentially. Everything happens in tick(), with the caller's clock.
class ScalingGroup {
 public:
  ScalingGroup(core::EventLoop& loop, const config::AutoScalingGroupConfig& config,
               ProviderFactory factory, TargetGroupLink& link);
  ~ScalingGroup();

  // A reloaded configuration: sizes and timings apply now; a changed launch template
  // starts an instance refresh.
  void reconfigure(const config::AutoScalingGroupConfig& config, int64_t unix_ms);
  void tick(int64_t now_ms, int64_t unix_ms);

  // Sets the desired capacity, clamped to [min_size, max_size]; `cause` says why, in
  // words ("alarm high-cpu in ALARM triggered policy scale-up"). Returns the new value.
  int set_desired(int desired, const std::string& cause);
  // Scheduled actions: any of the three sizes.
  void set_sizes(std::optional<uint32_t> min, std::optional<uint32_t> max,
                 std::optional<uint32_t> desired, const std::string& cause);
  bool set_protected(const std::string& instance_id, bool on);
  // Replaces every instance not on the current launch template (`all`: every instance),
  // in rolling batches.
  bool start_refresh(const std::string& cause, int64_t unix_ms, std::string* error,
                     bool all = false);
  bool cancel_refresh(int64_t unix_ms);
  // Stops every instance now (ballast is shutting down).
  void stop_all();

  // In a cluster: asked before each launch whether the instance's launch is recorded in
  // etcd yet. Only instances that outlive ballast wait for it (a successor adopts those).
  using LaunchGate = std::function<bool(const std::string& instance_id)>;
  void set_launch_gate(LaunchGate gate) { launch_gate_ = std::move(gate); }
  // Whether its instances run on without this process (then a successor adopts them).
  bool instances_outlive_ballast() const { return provider_->outlives_ballast(); }
  // Each instance not yet terminated, as its successor would take it over.
  std::vector<InstanceRecord> records() const;
  // A new leader takes over its predecessor's instances: a launch is asked again with the
  // same idempotency key, a running instance joins (and passes the health check) again, a
  // termination is asked again. Only for instances that outlive ballast.
  void adopt(const std::vector<InstanceRecord>& records, int64_t now_ms, int64_t unix_ms);
  // This node no longer leads. Instances that outlive ballast are left to the successor
  // (forgotten, not stopped). This node's own processes keep serving until the successor
  // has removed their targets, then stop: done() says when.
  void hand_over(const std::string& cause, int64_t unix_ms);
  // The group left the configuration: every instance is drained and terminated the usual
  // way (protection lifted); done() says when nothing is left.
  void retire(int64_t unix_ms);
  bool done() const;

  const config::AutoScalingGroupConfig& config() const { return config_; }
  const std::string& name() const { return config_.name; }
  int desired() const { return desired_; }
  int min_size() const { return static_cast<int>(config_.min_size); }
  int max_size() const { return static_cast<int>(config_.max_size); }
  const std::vector<std::unique_ptr<Instance>>& instances() const { return instances_; }
  const std::deque<Activity>& activities() const { return activities_; }
  const RefreshStatus& refresh() const { return refresh_; }
  uint64_t template_version() const { return template_version_; }
  // Why launches are not happening, when they fail ("" when they do not).
  const std::string& launch_problem() const { return launch_problem_; }
  // Zones launches avoid for now, and why.
  std::vector<ZoneHealth::Impairment> impaired_zones(int64_t now_ms) const {
    return zone_health_.impaired_now(now_ms);
  }
  int count(InstanceState s) const;
  // Instances whose metrics count: in service and past their warmup.
  std::vector<const Instance*> counted(int64_t now_ms) const;
  bool warming(int64_t now_ms) const;  // some instance is pending or warming up

 private:
  // An instance's life, one tick at a time: what its phase waits for, and the next step.
  void advance(Instance& i, int64_t now_ms, int64_t unix_ms);
  // The provider's error or an early exit fails the launch (true when it did).
  bool launch_went_wrong(Instance& i, int64_t now_ms, int64_t unix_ms);
  // Runs the transition's lifecycle hooks when there are any, else goes on at once.
  void start_hooks_or(Instance& i, config::LifecycleHookConfig::Transition t, int64_t now_ms,
                      int64_t unix_ms);
  void poll_hooks(Instance& i, int64_t now_ms, int64_t unix_ms);
  void after_hooks(Instance& i, int64_t now_ms, int64_t unix_ms);
  void join(Instance& i, int64_t now_ms, int64_t unix_ms);
  void await_health(Instance& i, int64_t now_ms, int64_t unix_ms);
  void advance_in_service(Instance& i, int64_t now_ms, int64_t unix_ms);
  void stop(Instance& i, int64_t unix_ms);
  // Why a phase changes: the cause people read, and whether something failed.
  struct Change {
    std::string cause;
    bool failed = false;
    bool keeps_target = false;  // leaving for a successor, which removes the target itself
  };
  // The one place an instance's phase changes, with what the change means for its target
  // group membership and its activity (the activity text comes from here).
  void transition(Instance& i, Phase next, const Change& change, int64_t unix_ms);
  void reconcile(int64_t now_ms, int64_t unix_ms);
  void launch(const std::string& zone, const std::string& cause, int64_t now_ms, int64_t unix_ms);
  // Asks the provider to start it (again, for an adopted launch: the same id, the same key).
  void ask_provider(Instance& i);
  // An instance that outlives ballast is asked for only once its launch is recorded (a
  // cluster's leader writes it to etcd), so that no successor can miss it.
  bool launch_recorded(const Instance& i) const;
  Instance& add_instance(const std::string& id, const std::string& zone, int64_t now_ms,
                         int64_t unix_ms);
  void terminate(Instance& i, const std::string& cause, int64_t unix_ms);
  void launch_failed(Instance& i, const std::string& why, int64_t now_ms, int64_t unix_ms);
  void retire_replaced(int64_t now_ms, int64_t unix_ms);
  void rebalance_zones(int64_t now_ms);
  void advance_refresh(int64_t unix_ms);
  // The zone for the next launch: the one with fewest instances of those not impaired.
  std::string emptiest_zone(int64_t now_ms) const;
  std::vector<Instance*> scale_in_victims(size_t n);
  Instance* find(const std::string& id);
  void instance_exited(const std::string& id, const std::string& why);
  uint64_t begin_activity(const std::string& instance_id, const std::string& description,
                          const std::string& cause, int64_t unix_ms);
  void end_activity(uint64_t id, const std::string& status, const std::string& detail,
                    int64_t unix_ms);
  std::string new_instance_id();

  core::EventLoop& loop_;
  config::AutoScalingGroupConfig config_;
  ProviderFactory factory_;
  TargetGroupLink& link_;
  LaunchGate launch_gate_;
  std::shared_ptr<Provider> provider_;  // of the current launch template
  uint64_t template_version_ = 1;
  int desired_ = 0;
  std::string desired_cause_;  // why desired last changed: the cause of what follows
  std::vector<std::unique_ptr<Instance>> instances_;
  std::deque<Activity> activities_;
  uint64_t next_activity_ = 1;
  RefreshStatus refresh_;
  int consecutive_failures_ = 0;
  int64_t next_launch_ms_ = 0;
  std::string launch_problem_;
  ZoneHealth zone_health_;
  uint64_t id_counter_ = 0;
  uint32_t id_salt_ = 0;
  bool stopping_ = false;
};

}  // namespace ballast::scale
