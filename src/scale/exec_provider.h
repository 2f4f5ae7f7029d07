#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "scale/child_process.h"
#include "scale/provider.h"

namespace ballast::scale {

// Instances on any platform, through the user's scripts: each call runs a command with a
// JSON request on stdin and reads a JSON answer from stdout (docs/autoscaling.md gives
// the protocol). launch answers {"address": "host:port"}; terminate exits 0 once the
// instance is gone; describe, run every describe_interval, lists the instances still
// running, so ballast learns of those that ended on their own.
class ExecProvider final : public Provider {
 public:
  // `fencing_token`: in a cluster, the autoscaler leader's token, handed to every command
  // (BALLAST_FENCING_TOKEN and "fencing_token") so a platform can refuse a deposed leader.
  ExecProvider(core::EventLoop& loop, const config::LaunchConfig& launch, std::string group,
               std::function<int64_t()> fencing_token = {});
  ~ExecProvider() override;

  void launch(const LaunchRequest& request, LaunchFn done) override;
  void terminate(const std::string& instance_id, DoneFn done) override;
  void poll(int64_t now_ms) override;
  InstanceUsage usage(const std::string& instance_id) const override;
  bool outlives_ballast() const override { return true; }
  void adopt(const std::string& instance_id, const std::string& address,
             const std::string& provider_id) override;
  void release_all() override;

 private:
  struct Call {
    std::unique_ptr<ChildProcess> child;
    int64_t deadline_ms = 0;
    std::string what;  // "launch i-...", for messages
  };
  struct Known {
    std::string address;
    std::string provider_id;
    bool terminating = false;
    InstanceUsage usage;
  };
  using Finish = std::function<void(bool ok, const std::string& output, const std::string& error)>;
  // Runs `command` with `input` on stdin; `finish` gets its stdout, or why it failed.
  void run(const std::string& what, const std::string& command, const std::string& input,
           Finish finish);
  void describe();
  void described(const std::string& output);

  core::EventLoop& loop_;
  config::LaunchConfig launch_;
  std::string group_;
  std::function<int64_t()> fencing_token_;
  std::map<uint64_t, Call> calls_;
  uint64_t next_call_ = 1;
  std::map<std::string, Known> known_;  // by instance id
  int64_t next_describe_ms_ = 0;
  bool describing_ = false;
  std::set<std::string> asked_;  // the instances the running describe was asked about
  bool released_ = false;        // release_all(): whatever launches still answer is not ours
};

}  // namespace ballast::scale
