#include "health/health_checker.h"

#include <random>

#include "core/log.h"
#include "health/probe.h"
#include "health/threshold_tracker.h"
#include "lb/hash.h"

namespace ballast::health {

// One target's schedule: a probe every interval (with jitter, so the checks of many
// targets and many ballast instances do not fall in step), results into the tracker,
// state changes onto the board.
class HealthChecker::TargetCheck {
 public:
  TargetCheck(core::EventLoop& loop, const config::TargetGroupConfig& group, size_t target,
              HealthBoard& board, uint64_t seed)
      : loop_(loop),
        group_(group),
        target_(target),
        board_(board),
        tracker_(group.health_check.healthy_threshold, group.health_check.unhealthy_threshold),
        random_(seed) {
    const auto& t = group.targets[target];
    address_ =
        group.health_check.port != 0 ? t.address.with_port(group.health_check.port) : t.address;
    host_ = group.health_check.host.empty() ? t.address_text : group.health_check.host;
  }

  // The first check comes soon but not all at once: within the first jittered interval,
  // capped at one second.
  void schedule_first() {
    int64_t spread = std::min<int64_t>(group_.health_check.interval_ms, 1000);
    loop_.timers().arm(timer_,
                       static_cast<int64_t>(random_.below(static_cast<uint64_t>(spread) + 1)),
                       loop_.now_ms());
  }

 private:
  static void on_timer(void* self) { static_cast<TargetCheck*>(self)->run_probe(); }

  void run_probe() {
    probe_ = std::make_unique<Probe>(
        loop_, group_.health_check, address_, host_,
        [this](bool passed, HealthReason reason, const std::string& detail) {
          on_result(passed, reason, detail);
        });
    probe_->start();
  }

  void on_result(bool passed, HealthReason reason, const std::string& detail) {
    if (tracker_.record(passed, reason)) {
      board_.set(target_, tracker_.state(), tracker_.reason());
      const std::string& name = group_.targets[target_].address_text;
      if (tracker_.state() == TargetHealth::kHealthy) {
        LOG_INFO("target group \"%s\": %s is healthy", group_.name.c_str(), name.c_str());
      } else {
        LOG_WARN("target group \"%s\": %s is unhealthy (%s: %s)", group_.name.c_str(), name.c_str(),
                 to_string(tracker_.reason()), detail.c_str());
      }
      report_group_state();
    }
    // The probe reported from inside its own event handler: free it after this batch.
    Probe* finished = probe_.release();
    loop_.defer_delete([finished] { delete finished; });
    schedule_next();
  }

  void report_group_state() {
    size_t healthy = 0;
    for (size_t i = 0; i < board_.size(); ++i)
      healthy += board_.health(i) == TargetHealth::kHealthy;
    if (healthy == 0) {
      LOG_WARN("target group \"%s\": no healthy target; %s", group_.name.c_str(),
               group_.fail_open ? "routing to all targets (fail_open: true)"
                                : "answering 503 (fail_open: false)");
    }
  }

  void schedule_next() {
    const auto& hc = group_.health_check;
    int64_t jitter = hc.interval_ms * hc.jitter_percent / 100;
    int64_t delay = hc.interval_ms;
    if (jitter > 0) {
      delay += static_cast<int64_t>(random_.below(static_cast<uint64_t>(2 * jitter) + 1)) - jitter;
    }
    loop_.timers().arm(timer_, std::max<int64_t>(delay, 1), loop_.now_ms());
  }

  core::EventLoop& loop_;
  const config::TargetGroupConfig& group_;
  size_t target_;
  HealthBoard& board_;
  ThresholdTracker tracker_;
  lb::Random random_;
  core::SocketAddress address_;
  std::string host_;
  std::unique_ptr<Probe> probe_;
  core::Timer timer_{&TargetCheck::on_timer, this};
};

HealthChecker::HealthChecker(const config::Config& config,
                             std::vector<std::shared_ptr<HealthBoard>> boards)
    : config_(config), boards_(std::move(boards)) {
  std::random_device seeds;
  for (size_t g = 0; g < config_.target_groups.size(); ++g) {
    if (g >= boards_.size() || !boards_[g]) continue;
    const auto& group = config_.target_groups[g];
    for (size_t t = 0; t < group.targets.size(); ++t) {
      checks_.push_back(std::make_unique<TargetCheck>(loop_, group, t, *boards_[g], seeds()));
    }
  }
}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  if (checks_.empty()) return;
  thread_ = std::thread([this] {
    loop_.update_time();
    for (auto& c : checks_) c->schedule_first();
    loop_.run();
  });
}

void HealthChecker::stop() {
  if (!thread_.joinable()) return;
  loop_.stop();
  thread_.join();
}

}  // namespace ballast::health
