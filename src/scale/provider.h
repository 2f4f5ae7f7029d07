#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ballast::scale {

struct LaunchRequest {
  std::string group;
  std::string instance_id;
  std::string zone;
};

struct LaunchResult {
  bool ok = false;
  std::string error;        // when not ok: what went wrong, for the activity history
  std::string address;      // "host:port" the instance serves on
  std::string provider_id;  // the platform's own name for it (a pid, a pod, an EC2 id)
};

// What the provider knows of an instance's use of the machine.
struct InstanceUsage {
  std::optional<double> cpu_percent;  // of one core, over the last sample interval
  std::optional<double> memory_bytes;
};

// Launches and terminates instances somewhere (local processes, a cloud, a cluster).
// Every call returns at once; its callback runs later on the same event loop, never
// inside the call. A provider also reports instances that ended on their own.
class Provider {
 public:
  using LaunchFn = std::function<void(const LaunchResult&)>;
  using DoneFn = std::function<void(bool ok, const std::string& error)>;
  // An instance stopped without being asked (crashed, killed, gone from the platform).
  using ExitFn = std::function<void(const std::string& instance_id, const std::string& why)>;

  virtual ~Provider() = default;
  virtual void launch(const LaunchRequest& request, LaunchFn done) = 0;
  // Stops the instance; `done` once it is gone.
  virtual void terminate(const std::string& instance_id, DoneFn done) = 0;
  // Samples usage and watches for instances gone on their own; called every 100 ms by
  // the control loop with its clock (providers do their periodic work here).
  virtual void poll(int64_t now_ms) = 0;
  virtual InstanceUsage usage(const std::string& instance_id) const = 0;
  void on_exit(ExitFn fn) { exit_fn_ = std::move(fn); }

  // Whether its instances live on without this process (a platform's, not our children):
  // then a successor in a cluster adopts them instead of replacing them.
  virtual bool outlives_ballast() const { return false; }
  // An instance launched by another ballast (a previous leader), taken over: terminate,
  // usage and the check for instances gone on their own cover it from now on.
  virtual void adopt(const std::string& /*instance_id*/, const std::string& /*address*/,
                     const std::string& /*provider_id*/) {}
  // Forgets every instance without stopping it: a successor adopts them.
  virtual void release_all() {}

 protected:
  ExitFn exit_fn_;
};

}  // namespace ballast::scale
