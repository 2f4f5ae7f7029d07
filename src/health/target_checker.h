#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/event_loop.h"
#include "core/timer_queue.h"
#include "health/probe.h"
#include "health/target_health.h"
#include "health/threshold_tracker.h"
#include "lb/hash.h"

namespace ballast::health {

// The active health checks of one target: a probe every interval (with jitter, so the
// checks of many targets and many ballast instances do not fall in step), results into
// a threshold tracker, and a report on each change of state. Runs on the caller's loop
// (the control thread's); destroying it stops the checks at once.
class TargetChecker {
 public:
  using OnChange =
      std::function<void(TargetHealth state, HealthReason reason, const std::string& detail)>;
  TargetChecker(core::EventLoop& loop, const config::HealthCheckConfig& check,
                const core::SocketAddress& address, const std::string& address_text, uint64_t seed,
                OnChange on_change);
  ~TargetChecker();
  TargetChecker(const TargetChecker&) = delete;
  TargetChecker& operator=(const TargetChecker&) = delete;

  // The first check comes soon but not all at once: within the first jittered interval,
  // capped at one second.
  void start();
  TargetHealth state() const { return tracker_.state(); }
  HealthReason reason() const { return tracker_.reason(); }
  const config::HealthCheckConfig& settings() const { return check_; }

 private:
  static void on_timer(void* self) { static_cast<TargetChecker*>(self)->run_probe(); }
  void run_probe();
  void on_result(bool passed, HealthReason reason, const std::string& detail);
  void schedule_next();

  core::EventLoop& loop_;
  config::HealthCheckConfig check_;  // a copy: the checker may outlive a reloaded config
  ThresholdTracker tracker_;
  lb::Random random_;
  core::SocketAddress address_;
  std::string host_;
  OnChange on_change_;
  std::unique_ptr<Probe> probe_;
  core::Timer timer_{&TargetChecker::on_timer, this};
};

}  // namespace ballast::health
