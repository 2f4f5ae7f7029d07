#pragma once
#include <memory>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/event_loop.h"
#include "health/health_board.h"

namespace ballast::health {

// Runs the active health checks of every target group that has a health_check, on its
// own thread and event loop, and publishes each target's state on the group's board.
class HealthChecker {
 public:
  // `boards[g]` is group g's board, or null when the group has no health check.
  HealthChecker(const config::Config& config, std::vector<std::shared_ptr<HealthBoard>> boards);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  void start();
  // Thread-safe; returns when the thread has stopped.
  void stop();

 private:
  class TargetCheck;
  const config::Config& config_;
  std::vector<std::shared_ptr<HealthBoard>> boards_;
  core::EventLoop loop_;
  std::vector<std::unique_ptr<TargetCheck>> checks_;
  std::thread thread_;
};

}  // namespace ballast::health
