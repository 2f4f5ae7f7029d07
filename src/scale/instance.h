#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "scale/provider.h"

namespace ballast::scale {

// AWS's lifecycle states, as the API shows them; the :Wait states are a lifecycle hook
// running. Derived from an instance's phase.
enum class InstanceState {
  kPending,
  kPendingWait,
  kInService,
  kTerminating,
  kTerminatingWait,
  kTerminated
};
const char* to_string(InstanceState s);

// Where an instance is in its life, one step finer than InstanceState so that no flag beside
// it has to say which step of a state it is in. It only moves forward, and only through
// ScalingGroup::transition(), which also keeps the instance's activity.
enum class Phase {
  kRecording,       // Pending: in a cluster, its launch is being written to etcd first, so that
                    // a successor finds it (and asks again with the same key) if this node dies
  kLaunching,       // Pending: the provider was asked to start it and has not answered
  kLaunchHooks,     // Pending:Wait: the launching lifecycle hooks run
  kJoining,         // Pending: in its target group until the health check passes
  kInService,       // InService
  kLeaving,         // Terminating: out of its target group, its requests drain (or its launch
                    // is still to be answered, so that what started can be stopped)
  kTerminateHooks,  // Terminating:Wait: the terminating lifecycle hooks run
  kStopping,        // Terminating: the provider was asked to stop it
  kTerminated,      // Terminated
};
InstanceState state_of(Phase p);
const char* to_string(Phase p);

// What the autoscaler leader keeps in etcd of each instance, so that its successor knows what
// to finish: a launch (asked again with the same idempotency key), an instance to run, or a
// termination (asked again).
enum class Intent { kLaunch, kRun, kTerminate };
Intent intent_of(Phase p);
const char* to_string(Intent i);
std::optional<Intent> parse_intent(std::string_view text);

// One instance as a successor takes it over.
struct InstanceRecord {
  std::string id;
  std::string zone;
  std::string address;  // empty: its launch was not answered yet
  std::string provider_id;
  Intent intent = Intent::kLaunch;
  int64_t launch_unix_ms = 0;
};

class HookRun;

struct Instance {
  Instance();
  ~Instance();  // out of line: HookRun is complete there
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  std::string id;
  std::string zone;
  std::string target_group;  // the one it joined (a reload may move the group)
  std::string address;       // "host:port" once launched
  std::string provider_id;   // the provider's name for it
  std::shared_ptr<Provider> provider;
  uint64_t template_version = 0;  // the launch template it was started from
  Phase phase = Phase::kRecording;
  int64_t launch_ms = 0;       // monotonic: when the launch was asked for
  int64_t launch_unix_ms = 0;  // wall clock, for people
  int64_t in_service_ms = -1;  // monotonic
  std::string launch_error;    // the provider's answer to a launch that failed
  // The provider's answer to the stop: empty when it stopped, else why not (none yet: nullopt).
  std::optional<std::string> stop_answer;
  std::string exited;  // set when it ended on its own: why
  bool protected_from_scale_in = false;
  // Set: it leaves once capacity without it is back (refresh, lifetime, zone rebalancing),
  // for this reason.
  std::string replace_reason;
  uint64_t activity = 0;          // the activity of its launch or termination in progress
  std::unique_ptr<HookRun> hook;  // a lifecycle hook running

  InstanceState state() const { return state_of(phase); }
  // The provider has answered the launch: with an address, or with an error.
  bool launch_answered() const { return !address.empty() || !launch_error.empty(); }
  bool replacing() const { return !replace_reason.empty(); }
  bool active() const { return phase <= Phase::kInService; }
  bool warmed(int64_t now_ms, int64_t warmup_ms) const {
    return phase == Phase::kInService && now_ms >= in_service_ms + warmup_ms;
  }
};

struct Activity {
  uint64_t id = 0;
  int64_t start_unix_ms = 0;
  int64_t end_unix_ms = 0;  // 0 while in progress
  std::string instance_id;
  std::string description;            // "Launching a new instance: i-..."
  std::string cause;                  // why, in words
  std::string status = "InProgress";  // InProgress, Successful, Failed, Cancelled
  std::string detail;                 // what failed
};

}  // namespace ballast::scale
