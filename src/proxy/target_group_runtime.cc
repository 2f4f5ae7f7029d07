#include "proxy/target_group_runtime.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "core/log.h"
#include "lb/balancer_factory.h"
#include "lb/hash.h"

namespace ballast::proxy {

namespace {
// Characters a cookie name may not hold become "_".
std::string make_sticky_cookie_name(const config::TargetGroupConfig& group) {
  using Type = config::TargetGroupConfig::Stickiness::Type;
  if (group.stickiness.type == Type::kNone) return {};
  std::string name = group.stickiness.type == Type::kAppCookie ? "BALLASTAPP_" : "BALLAST_";
  for (char c : group.name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    name.push_back(ok ? c : '_');
  }
  return name;
}
}  // namespace

TargetGroupRuntime::TargetGroupRuntime(core::EventLoop& loop,
                                       const config::TargetGroupConfig& config,
                                       const health::HealthBoard* board, CircuitBreaker* breaker)
    : config_(config), loop_(loop), board_(board), breaker_(breaker) {
  if (config.outlier_detection.enabled) {
    outliers_ =
        std::make_unique<health::OutlierDetector>(config.outlier_detection, config.targets.size());
  }
  for (const auto& t : config.targets) {
    pools_.push_back(std::make_unique<TargetPool>(loop, t.address,
                                                  config.keepalive.max_idle_per_target,
                                                  config.keepalive.idle_timeout_ms, breaker));
    lb::TargetState state;
    state.weight = t.weight;
    state.id_hash = lb::hash_bytes(t.address_text);
    states_.push_back(state);
  }
  for (const auto& t : config.targets) base_weights_.push_back(t.weight);
  sticky_cookie_name_ = make_sticky_cookie_name(config);
  usable_.assign(states_.size(), board == nullptr);
  lb::Algorithm algorithm = config.algorithm;
  if (config.slow_start_ms > 0) {
    slow_start_ = std::make_unique<lb::SlowStart>(config.slow_start_ms,
                                                  config.slow_start_min_percent, states_.size());
    slow_start_->apply(states_, base_weights_, loop.now_ms());
    // Plain round robin ignores weights; ramping needs the weighted one.
    if (algorithm == lb::Algorithm::kRoundRobin) algorithm = lb::Algorithm::kWeightedRoundRobin;
  }
  // Each worker's randomised balancer gets its own seed, so workers do not move in step.
  balancer_ = lb::make_balancer(algorithm, states_, std::random_device{}());
  refresh_eligibility();
}

void TargetGroupRuntime::refresh_eligibility() {
  if (board_ != nullptr) seen_generation_ = board_->generation();
  size_t healthy = 0;
  size_t usable_before = 0;
  for (bool u : usable_) usable_before += u;
  for (size_t i = 0; i < states_.size(); ++i) {
    bool checked_ok = board_ == nullptr || board_->health(i) == health::TargetHealth::kHealthy;
    bool ejected = outliers_ != nullptr && outliers_->ejected(i);
    bool usable = checked_ok && !ejected;
    // A target joining others that already serve starts slowly; the first one does not
    // (nothing else could take the traffic).
    if (usable && !usable_[i] && usable_before > 0 && slow_start_ != nullptr) {
      slow_start_->begin(i, loop_.now_ms());
    }
    usable_[i] = usable;
    states_[i].eligible = usable;
    healthy += usable && base_weights_[i] > 0;
  }
  // Targets in initial or unhealthy state get no traffic, unless none is healthy: then
  // fail open (every target) or closed (503), as the group says.
  if (healthy == 0 && config_.fail_open) {
    for (auto& s : states_) s.eligible = true;
  }
}

void TargetGroupRuntime::record_response_time(size_t i, int64_t us) {
  // EWMA with weight 1/8, as TCP smooths its round-trip time (RFC 6298).
  uint32_t sample = static_cast<uint32_t>(std::clamp<int64_t>(us, 1, UINT32_MAX));
  uint32_t& ewma = states_[i].ewma_us;
  ewma = ewma == 0 ? sample
                   : static_cast<uint32_t>(static_cast<int64_t>(ewma) +
                                           (static_cast<int64_t>(sample) - ewma) / 8);
  if (ewma == 0) ewma = 1;
}

void TargetGroupRuntime::update_states() {
  // One load per request; the states are reread only when a target's health changed.
  bool stale = board_ != nullptr && board_->generation() != seen_generation_;
  if (outliers_ != nullptr && outliers_->readmit(loop_.now_ms())) stale = true;
  if (stale) refresh_eligibility();
  if (slow_start_ != nullptr && slow_start_->ramping()) {
    slow_start_->apply(states_, base_weights_, loop_.now_ms());
  }
}

int TargetGroupRuntime::find_usable(uint64_t id) {
  update_states();
  for (size_t i = 0; i < states_.size(); ++i) {
    if (states_[i].id_hash == id) return lb::usable(states_[i]) ? static_cast<int>(i) : -1;
  }
  return -1;
}

int TargetGroupRuntime::pick(const lb::PickContext& ctx) {
  if (states_.empty()) return -1;
  update_states();
  return balancer_->pick(states_, ctx);
}

int TargetGroupRuntime::pick_excluding(const lb::PickContext& ctx, std::span<const int> exclude) {
  if (states_.empty()) return -1;
  update_states();
  std::vector<bool> saved;  // only on the retry path, never per ordinary request
  for (int i : exclude) {
    saved.push_back(states_[static_cast<size_t>(i)].eligible);
    states_[static_cast<size_t>(i)].eligible = false;
  }
  int chosen = balancer_->pick(states_, ctx);
  for (size_t k = 0; k < exclude.size(); ++k)
    states_[static_cast<size_t>(exclude[k])].eligible = saved[k];
  return chosen;
}

bool TargetGroupRuntime::retry_allowed() const {
  uint64_t budget = active_requests_ * config_.retry_budget_percent / 100;
  return active_retries_ < std::max<uint64_t>(budget, config_.retry_min_concurrency);
}

void TargetGroupRuntime::record_outcome(size_t i, bool failed) {
  if (outliers_ == nullptr) return;
  if (outliers_->record(i, failed, loop_.now_ms())) {
    LOG_WARN("target group \"%s\": ejecting %s for %llds after %u consecutive failures",
             config_.name.c_str(), target_text(i).c_str(),
             static_cast<long long>(outliers_->ejection_ms(i) / 1000),
             config_.outlier_detection.consecutive_failures);
    refresh_eligibility();
  }
}

void TargetGroupRuntime::close_idle() {
  for (auto& p : pools_) p->set_closing();
}

}  // namespace ballast::proxy
