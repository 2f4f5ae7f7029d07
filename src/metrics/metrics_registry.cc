#include "metrics/metrics_registry.h"

namespace ballast::metrics {

namespace {
template <typename Map, typename Key>
auto get_or_create(Map& map, const Key& key) {
  auto& slot = map[key];
  if (!slot) slot = std::make_shared<typename Map::mapped_type::element_type>();
  return slot;
}

template <typename Map>
void drop_unused(Map& map) {
  std::erase_if(map, [](const auto& entry) { return entry.second.use_count() == 1; });
}
}  // namespace

std::shared_ptr<ListenerStats> MetricsRegistry::listener(const std::string& name, unsigned worker) {
  core::MutexLock lock(mu_);
  return get_or_create(listeners_, std::make_tuple(name, worker));
}

std::shared_ptr<GroupStats> MetricsRegistry::group(const std::string& name, unsigned worker) {
  core::MutexLock lock(mu_);
  return get_or_create(groups_, std::make_tuple(name, worker));
}

std::shared_ptr<TargetStats> MetricsRegistry::target(const std::string& group,
                                                     const std::string& address, unsigned worker) {
  core::MutexLock lock(mu_);
  return get_or_create(targets_, std::make_tuple(group, address, worker));
}

void MetricsRegistry::collect_unused() {
  core::MutexLock lock(mu_);
  drop_unused(listeners_);
  drop_unused(groups_);
  drop_unused(targets_);
}

}  // namespace ballast::metrics
