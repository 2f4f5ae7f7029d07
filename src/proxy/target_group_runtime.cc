#include "proxy/target_group_runtime.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "lb/balancer_factory.h"
#include "lb/hash.h"

namespace ballast::proxy {

TargetGroupRuntime::TargetGroupRuntime(core::EventLoop& loop,
                                       const config::TargetGroupConfig& config)
    : config_(config) {
  for (const auto& t : config.targets) {
    pools_.push_back(std::make_unique<TargetPool>(
        loop, t.address, config.keepalive.max_idle_per_target, config.keepalive.idle_timeout_ms));
    lb::TargetState state;
    state.weight = t.weight;
    state.id_hash = lb::hash_bytes(t.address_text);
    states_.push_back(state);
  }
  // Each worker's randomised balancer gets its own seed, so workers do not move in step.
  balancer_ = lb::make_balancer(config.algorithm, states_, std::random_device{}());
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

int TargetGroupRuntime::pick(const lb::PickContext& ctx) {
  if (states_.empty()) return -1;
  return balancer_->pick(states_, ctx);
}

void TargetGroupRuntime::close_idle() {
  for (auto& p : pools_) p->set_closing();
}

uint64_t TargetGroupRuntime::connections_opened() const {
  uint64_t n = 0;
  for (const auto& p : pools_) n += p->connections_opened();
  return n;
}

}  // namespace ballast::proxy
