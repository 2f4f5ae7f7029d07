#include "health/target_checker.h"

#include <algorithm>

namespace ballast::health {

TargetChecker::TargetChecker(core::EventLoop& loop, const config::HealthCheckConfig& check,
                             const core::SocketAddress& address, const std::string& address_text,
                             uint64_t seed, OnChange on_change)
    : loop_(loop),
      check_(check),
      tracker_(check.healthy_threshold, check.unhealthy_threshold),
      random_(seed),
      address_(check.port != 0 ? address.with_port(check.port) : address),
      host_(check.host.empty() ? address_text : check.host),
      on_change_(std::move(on_change)) {}

TargetChecker::~TargetChecker() {
  timer_.cancel();
  if (probe_) {
    // The probe may still be named in the current batch of events: stop it now, free it
    // after the batch.
    probe_->cancel();
    Probe* p = probe_.release();
    loop_.defer_delete([p] { delete p; });
  }
}

void TargetChecker::start() {
  int64_t spread = std::min<int64_t>(check_.interval_ms, 1000);
  loop_.timers().arm(timer_, static_cast<int64_t>(random_.below(static_cast<uint64_t>(spread) + 1)),
                     loop_.now_ms());
}

void TargetChecker::run_probe() {
  probe_ =
      std::make_unique<Probe>(loop_, check_, address_, host_,
                              [this](bool passed, HealthReason reason, const std::string& detail) {
                                on_result(passed, reason, detail);
                              });
  probe_->start();
}

void TargetChecker::on_result(bool passed, HealthReason reason, const std::string& detail) {
  // The probe reported from inside its own event handler: free it after this batch.
  Probe* finished = probe_.release();
  loop_.defer_delete([finished] { delete finished; });
  schedule_next();
  if (tracker_.record(passed, reason)) on_change_(tracker_.state(), tracker_.reason(), detail);
}

void TargetChecker::schedule_next() {
  int64_t jitter = check_.interval_ms * check_.jitter_percent / 100;
  int64_t delay = check_.interval_ms;
  if (jitter > 0) {
    delay += static_cast<int64_t>(random_.below(static_cast<uint64_t>(2 * jitter) + 1)) - jitter;
  }
  loop_.timers().arm(timer_, std::max<int64_t>(delay, 1), loop_.now_ms());
}

}  // namespace ballast::health
