#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "scale/provider.h"

namespace ballast::scale {

// AWS's lifecycle states; the :Wait states are a lifecycle hook running.
enum class InstanceState {
  kPending,
  kPendingWait,
  kInService,
  kTerminating,
  kTerminatingWait,
  kTerminated
};
const char* to_string(InstanceState s);

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
  InstanceState state = InstanceState::kPending;
  int64_t launch_ms = 0;       // monotonic: when the launch was asked for
  int64_t launch_unix_ms = 0;  // wall clock, for people
  int64_t in_service_ms = -1;  // monotonic
  bool launched = false;       // the provider has answered
  bool launch_failed = false;
  std::string launch_error;  // the provider's answer to a launch that failed
  bool hooks_done = false;   // the launching hooks have run
  bool registered = false;   // in the target group
  bool deregistered = false;
  bool terminate_sent = false;
  bool protected_from_scale_in = false;
  // Leaves once capacity without it is back (refresh, lifetime, zone rebalancing).
  bool replace = false;
  std::string replace_reason;
  std::string exited;             // set when it ended on its own: why
  uint64_t activity = 0;          // the activity of its launch or termination in progress
  std::unique_ptr<HookRun> hook;  // a lifecycle hook running

  bool active() const {
    return state == InstanceState::kPending || state == InstanceState::kPendingWait ||
           state == InstanceState::kInService;
  }
  bool warmed(int64_t now_ms, int64_t warmup_ms) const {
    return state == InstanceState::kInService && now_ms >= in_service_ms + warmup_ms;
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
