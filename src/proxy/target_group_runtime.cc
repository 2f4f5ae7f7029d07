#include "proxy/target_group_runtime.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "core/log.h"
#include "lb/balancer_factory.h"
#include "lb/hash.h"
#include "proxy/hash_key.h"

namespace ballast::proxy {

namespace {
// How the pool's new connections reach the target: TLS or not, HTTP/1.1 or HTTP/2.
void configure_transport(TargetPool& pool, const config::TargetGroupConfig& config) {
  pool.set_tls(config.tls.context, config.tls.server_name);
  pool.set_http2(config.protocol_version == config::TargetGroupConfig::ProtocolVersion::kHttp2,
                 config.tls.h2_context);
}

std::string make_sticky_cookie_name(const config::TargetGroupConfig& group) {
  using Type = config::TargetGroupConfig::Stickiness::Type;
  if (group.stickiness.type == Type::kNone) return {};
  return (group.stickiness.type == Type::kAppCookie ? "BALLASTAPP_" : "BALLAST_") +
         cookie_safe(group.name);
}

bool same_outlier_settings(const config::OutlierDetectionConfig& a,
                           const config::OutlierDetectionConfig& b) {
  return a.enabled == b.enabled && a.consecutive_failures == b.consecutive_failures &&
         a.base_ejection_ms == b.base_ejection_ms && a.max_ejection_ms == b.max_ejection_ms &&
         a.max_ejection_percent == b.max_ejection_percent;
}
}  // namespace

GroupMembership membership_from_config(const config::TargetGroupConfig& group) {
  GroupMembership m;
  for (const auto& t : group.targets) {
    m.members.push_back(
        Member{t.address_text, t.address, lb::hash_bytes(t.address_text), t.weight});
  }
  return m;
}

TargetGroupRuntime::TargetGroupRuntime(core::EventLoop& loop,
                                       std::shared_ptr<const config::TargetGroupConfig> config,
                                       std::shared_ptr<CircuitBreaker> breaker,
                                       metrics::MetricsRegistry* metrics, unsigned worker)
    : loop_(loop), metrics_(metrics), worker_(worker) {
  if (metrics_ == nullptr) {
    own_metrics_ = std::make_unique<metrics::MetricsRegistry>();
    metrics_ = own_metrics_.get();
  }
  stats_ = metrics_->group(config->name, worker_);
  GroupMembership initial = membership_from_config(*config);
  reconfigure(std::move(config), std::move(breaker));
  apply(initial);
}

TargetGroupRuntime::~TargetGroupRuntime() = default;

void TargetGroupRuntime::reconfigure(std::shared_ptr<const config::TargetGroupConfig> next,
                                     std::shared_ptr<CircuitBreaker> breaker) {
  // The old settings stay alive until the end of this function: they are compared below.
  std::shared_ptr<const config::TargetGroupConfig> old = std::move(config_);  // null at first
  config_ = std::move(next);
  const config::TargetGroupConfig& config = *config_;
  breaker_ = std::move(breaker);
  sticky_cookie_name_ = make_sticky_cookie_name(config);
  if (!config.outlier_detection.enabled) {
    outliers_.reset();
  } else if (!outliers_ ||
             !same_outlier_settings(old->outlier_detection, config.outlier_detection)) {
    outliers_ = std::make_unique<health::OutlierDetector>(config.outlier_detection, slots_.size());
  }
  if (config.slow_start_ms <= 0) {
    slow_start_.reset();
  } else if (!slow_start_ || old->slow_start_ms != config.slow_start_ms ||
             old->slow_start_min_percent != config.slow_start_min_percent) {
    slow_start_ = std::make_unique<lb::SlowStart>(config.slow_start_ms,
                                                  config.slow_start_min_percent, slots_.size());
  }
  for (auto& slot : slots_) {
    if (slot.pool) {
      slot.pool->set_limits(config.keepalive.max_idle_per_target, config.keepalive.idle_timeout_ms,
                            breaker_);
      // Idle connections keep the TLS they were made with; new ones take the new settings.
      configure_transport(*slot.pool, config);
    }
  }
  if (!slots_.empty()) {
    rebuild_balancer();
    refresh_eligibility();
  }
}

size_t TargetGroupRuntime::slot_for(const Member& m,
                                    const std::unordered_map<uint64_t, size_t>& existing,
                                    std::vector<size_t>& free_slots) {
  if (auto it = existing.find(m.id); it != existing.end()) return it->second;
  size_t i;
  if (!free_slots.empty()) {
    i = free_slots.back();
    free_slots.pop_back();
    if (outliers_) outliers_->forget(i);
    if (slow_start_) slow_start_->forget(i);
  } else {
    i = slots_.size();
    slots_.emplace_back();
    states_.emplace_back();
    base_weights_.push_back(0);
    usable_.push_back(false);
    if (outliers_) outliers_->resize(slots_.size());
    if (slow_start_) slow_start_->resize(slots_.size());
  }
  Slot& slot = slots_[i];
  slot = Slot{};
  slot.address_text = m.address_text;
  slot.address = m.address;
  slot.pool = std::make_unique<TargetPool>(loop_, m.address, config_->keepalive.max_idle_per_target,
                                           config_->keepalive.idle_timeout_ms, breaker_);
  configure_transport(*slot.pool, *config_);
  slot.stats = metrics_->target(config_->name, m.address_text, worker_);
  states_[i] = lb::TargetState{};
  states_[i].id_hash = m.id;
  usable_[i] = false;
  return i;
}

std::vector<std::pair<uint64_t, uint32_t>> TargetGroupRuntime::balancer_inputs() const {
  std::vector<std::pair<uint64_t, uint32_t>> inputs;
  inputs.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    inputs.emplace_back(slots_[i].pool ? states_[i].id_hash : 0, base_weights_[i]);
  }
  return inputs;
}

void TargetGroupRuntime::apply(const GroupMembership& membership) {
  fenced_.clear();
  const std::vector<std::pair<uint64_t, uint32_t>> inputs_before = balancer_inputs();
  std::unordered_set<uint64_t> ids;
  for (const Member& m : membership.members) ids.insert(m.id);
  // Removed targets first, so a new target can take a position freed now.
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& slot = slots_[i];
    if (!slot.pool || ids.count(states_[i].id_hash) != 0) continue;
    // It finishes what it has in flight here, then its position is freed.
    slot.member = false;
    slot.draining = false;
    slot.pool->set_closing();
    if (states_[i].in_flight == 0) {
      slot.pool.reset();
      slot.stats.reset();
      states_[i] = lb::TargetState{};
    }
  }
  std::unordered_map<uint64_t, size_t> existing;
  std::vector<size_t> free_slots;
  for (size_t i = slots_.size(); i-- > 0;) {
    if (slots_[i].pool) {
      existing.emplace(states_[i].id_hash, i);
    } else {
      free_slots.push_back(i);  // lowest position last, so it is reused first
    }
  }
  std::vector<size_t> newly_draining;
  for (const Member& m : membership.members) {
    size_t i = slot_for(m, existing, free_slots);
    Slot& slot = slots_[i];
    slot.member = true;
    if (m.health == health::TargetHealth::kFenced && slot.health != health::TargetHealth::kFenced) {
      fenced_.push_back(i);
    }
    slot.health = m.health;
    slot.base_weight = m.weight;
    if (m.draining() && !slot.draining) {
      slot.drain_version = membership.version;
      slot.drain_reported = false;
      slot.pool->set_closing();
      newly_draining.push_back(i);
    } else if (!m.draining() && slot.draining) {
      slot.pool->set_open();
    }
    slot.draining = m.draining();
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    base_weights_[i] = slots_[i].member && !slots_[i].draining ? slots_[i].base_weight : 0;
  }
  if (outliers_) outliers_->set_member_count(membership.members.size());
  // Balancers read eligibility at each pick, so a health flip needs no new one: only new
  // positions or weights do (a Maglev table is 65,537 entries, rebuilt on every worker).
  if (!balancer_ || balancer_inputs() != inputs_before) rebuild_balancer();
  refresh_eligibility();
  for (size_t i : newly_draining) {
    if (states_[i].in_flight == 0) report_drained(i);
  }
}

void TargetGroupRuntime::rebuild_balancer() {
  lb::Algorithm algorithm = config_->algorithm;
  if (slow_start_) {
    slow_start_->apply(states_, base_weights_, loop_.now_ms());
    // Plain round robin ignores weights; ramping needs the weighted one.
    if (algorithm == lb::Algorithm::kRoundRobin) algorithm = lb::Algorithm::kWeightedRoundRobin;
  } else {
    for (size_t i = 0; i < states_.size(); ++i) states_[i].weight = base_weights_[i];
  }
  // Each worker's randomised balancer gets its own seed, so workers do not move in step.
  balancer_ = lb::make_balancer(algorithm, states_, std::random_device{}());
  ++balancer_builds_;
}

void TargetGroupRuntime::refresh_eligibility() {
  size_t usable_before = 0;
  for (bool u : usable_) usable_before += u;
  size_t serving = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    bool ejected = outliers_ != nullptr && outliers_->ejected(i);
    bool usable =
        slot.member && !slot.draining && slot.health == health::TargetHealth::kHealthy && !ejected;
    // A target joining others that already serve starts slowly; the first one does not
    // (nothing else could take the traffic).
    if (usable && !usable_[i] && usable_before > 0 && slow_start_ != nullptr) {
      slow_start_->begin(i, loop_.now_ms());
    }
    usable_[i] = usable;
    states_[i].eligible = usable;
    serving += usable && base_weights_[i] > 0;
  }
  // Targets in initial or unhealthy state get no traffic, unless none is healthy: then
  // fail open (every registered target that is not draining) or closed (503).
  failing_open_ = false;
  if (serving == 0 && config_->fail_open) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      states_[i].eligible = slots_[i].member && !slots_[i].draining;
      failing_open_ = failing_open_ || states_[i].eligible;
    }
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
  if (outliers_ != nullptr && outliers_->readmit(loop_.now_ms())) refresh_eligibility();
  if (slow_start_ != nullptr && slow_start_->ramping()) {
    slow_start_->apply(states_, base_weights_, loop_.now_ms());
  }
}

int TargetGroupRuntime::find_usable(uint64_t id) {
  update_states();
  for (size_t i = 0; i < states_.size(); ++i) {
    if (slots_[i].pool && states_[i].id_hash == id)
      return lb::usable(states_[i]) ? static_cast<int>(i) : -1;
  }
  return -1;
}

int TargetGroupRuntime::pick(const lb::PickContext& ctx) {
  int chosen = -1;
  if (!states_.empty()) {
    update_states();
    chosen = balancer_->pick(states_, ctx);
  }
  if (chosen < 0) {
    stats_->no_target.add();
  } else if (failing_open_) {
    stats_->fail_open_picks.add();
  }
  return chosen;
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

bool TargetGroupRuntime::has_usable_target() const {
  for (const auto& state : states_) {
    if (lb::usable(state)) return true;
  }
  return false;
}

bool TargetGroupRuntime::retry_allowed() const {
  uint64_t budget = active_requests_ * config_->retry_budget_percent / 100;
  return active_retries_ < std::max<uint64_t>(budget, config_->retry_min_concurrency);
}

void TargetGroupRuntime::record_outcome(size_t i, bool failed) {
  if (outliers_ == nullptr || !slots_[i].member) return;
  if (outliers_->record(i, failed, loop_.now_ms())) {
    stats_->ejections.add();
    LOG_WARN("target group \"%s\": ejecting %s for %llds after %u consecutive failures",
             config_->name.c_str(), target_text(i).c_str(),
             static_cast<long long>(outliers_->ejection_ms(i) / 1000),
             config_->outlier_detection.consecutive_failures);
    refresh_eligibility();
  }
}

void TargetGroupRuntime::report_drained(size_t i) {
  Slot& slot = slots_[i];
  if (slot.drain_reported) return;
  slot.drain_reported = true;
  if (drained_) drained_(states_[i].id_hash, slot.drain_version);
}

void TargetGroupRuntime::close_idle() {
  for (auto& slot : slots_) {
    if (slot.pool) slot.pool->set_closing();
  }
}

}  // namespace ballast::proxy
