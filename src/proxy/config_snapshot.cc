#include "proxy/config_snapshot.h"

#include <stdexcept>

namespace ballast::proxy {

ConfigSnapshot::ConfigSnapshot(std::shared_ptr<const config::Config> config,
                               std::vector<std::shared_ptr<TargetGroupRuntime>> groups,
                               std::vector<std::shared_ptr<ConnectionLimiter>> limiters)
    : config_(std::move(config)), groups_(std::move(groups)), limiters_(std::move(limiters)) {
  if (groups_.size() != config_->target_groups.size()) {
    throw std::logic_error("a configuration snapshot needs one runtime per target group");
  }
  limiters_.resize(config_->listeners.size());
  for (size_t l = 0; l < limiters_.size(); ++l) {
    if (limiters_[l]) continue;
    const config::ClientLimits& c = config_->listeners[l].client_limits;
    limiters_[l] = std::make_shared<ConnectionLimiter>();
    limiters_[l]->set_limits(c.max_connections, c.max_connections_per_client);
  }
}

const std::shared_ptr<ConnectionLimiter>& ConfigSnapshot::limiter(
    const config::ListenerConfig& listener) const {
  return limiters_[static_cast<size_t>(&listener - config_->listeners.data())];
}

std::shared_ptr<TargetGroupRuntime> ConfigSnapshot::find_group(const std::string& name) const {
  for (const auto& g : groups_) {
    if (g->name() == name) return g;
  }
  return nullptr;
}

const config::ListenerConfig* ConfigSnapshot::find_listener(const core::SocketAddress& bind) const {
  for (const auto& l : config_->listeners) {
    if (l.bind == bind) return &l;
  }
  return nullptr;
}

}  // namespace ballast::proxy
