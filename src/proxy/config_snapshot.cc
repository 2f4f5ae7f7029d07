#include "proxy/config_snapshot.h"

#include <stdexcept>

namespace ballast::proxy {

ConfigSnapshot::ConfigSnapshot(std::shared_ptr<const config::Config> config,
                               std::vector<std::shared_ptr<TargetGroupRuntime>> groups)
    : config_(std::move(config)), groups_(std::move(groups)) {
  if (groups_.size() != config_->target_groups.size()) {
    throw std::logic_error("a configuration snapshot needs one runtime per target group");
  }
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
