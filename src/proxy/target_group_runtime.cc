#include "proxy/target_group_runtime.h"

#include "lb/balancer_factory.h"

namespace ballast::proxy {

TargetGroupRuntime::TargetGroupRuntime(core::EventLoop& loop,
                                       const config::TargetGroupConfig& config)
    : config_(config) {
  for (const auto& t : config.targets) {
    pools_.push_back(std::make_unique<TargetPool>(
        loop, t.address, config.keepalive.max_idle_per_target, config.keepalive.idle_timeout_ms));
    lb::TargetState state;
    state.weight = t.weight;
    states_.push_back(state);
  }
  balancer_ = lb::make_balancer(config.algorithm, states_);
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
