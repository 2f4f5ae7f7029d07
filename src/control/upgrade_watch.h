#pragma once
#include <sys/types.h>

#include <functional>
#include <string>

#include "core/event_loop.h"
#include "core/timer_queue.h"

namespace ballast::control {

// The old process's side of a binary upgrade while it waits: the new process's one-line
// answer on the handover socket ("ready", "failed: ..."), or its silence for `timeout_ms`,
// or its death (EOF), each given to `answered` as a line.
class UpgradeWatch final : public core::IoHandler {
 public:
  UpgradeWatch(core::EventLoop& loop, int socket, pid_t child, int64_t timeout_ms,
               std::function<void(const std::string&)> answered);
  ~UpgradeWatch() override;
  UpgradeWatch(const UpgradeWatch&) = delete;
  UpgradeWatch& operator=(const UpgradeWatch&) = delete;

  pid_t child() const { return child_; }
  void on_io(uint32_t events) override;

 private:
  static void on_timeout(void* self);
  core::EventLoop& loop_;
  int socket_;
  pid_t child_;
  int64_t timeout_ms_;
  std::function<void(const std::string&)> answered_;
  bool done_ = false;
  core::Timer timer_{&UpgradeWatch::on_timeout, this};
};

}  // namespace ballast::control
