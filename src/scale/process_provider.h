#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>

#include "config/config.h"
#include "core/event_loop.h"
#include "scale/child_process.h"
#include "scale/provider.h"

namespace ballast::scale {

// The embedded provider: each instance is a local process started from the launch
// template's command, on a port of its range, in its own process group, with its output
// in its own log file. Stopping is SIGTERM to the group, then SIGKILL after stop_timeout.
// CPU and memory come from /proc.
class ProcessProvider final : public Provider {
 public:
  ProcessProvider(core::EventLoop& loop, const config::LaunchConfig& launch,
                  std::string ballast_path);
  ~ProcessProvider() override;

  void launch(const LaunchRequest& request, LaunchFn done) override;
  void terminate(const std::string& instance_id, DoneFn done) override;
  void poll(int64_t now_ms) override;
  InstanceUsage usage(const std::string& instance_id) const override;
  // Stops every instance (SIGTERM, then SIGKILL after stop_timeout) and waits for them:
  // ballast's shutdown, so no instance outlives it.
  void stop_all();

 private:
  struct Running {
    std::string instance_id;
    uint16_t port = 0;
    std::unique_ptr<ChildProcess> child;
    bool stopping = false;
    int64_t kill_at_ms = 0;  // SIGKILL then, when stopping
    DoneFn stopped;
    double last_cpu_seconds = -1;
    int64_t last_sample_ms = 0;
    InstanceUsage usage;
  };
  std::optional<uint16_t> free_port() const;
  void exited(const std::string& instance_id, int status);
  void sample(Running& r, int64_t now_ms);

  core::EventLoop& loop_;
  config::LaunchConfig launch_;
  std::string ballast_path_;
  std::map<std::string, Running> running_;  // by instance id
  int64_t last_sample_ms_ = 0;
};

}  // namespace ballast::scale
