// In a cluster, an autoscaled instance is replaced for failing its health checks only when
// most nodes' checks find it failing: each node publishes the instances its own checks hold
// unhealthy (PREFIX/health/NODE, under its membership lease, so a dead node's view goes with
// it), and the leader counts them. One node's broken network does not recycle a healthy
// fleet; a target that is really down fails everywhere and is replaced as on a single node.
#include <nlohmann/json.hpp>

#include "control/controller.h"
#include "core/log.h"

namespace ballast::control {

void Controller::publish_health_view() {
  std::set<std::string> failing;
  for (const auto& g : registry_.groups()) {
    for (const auto& t : g.targets) {
      if (t.owner.empty() || t.health != health::TargetHealth::kUnhealthy) continue;
      failing.insert(g.name + "/" + t.address_text);
    }
  }
  std::erase_if(overruled_, [&](const std::string& t) { return failing.count(t) == 0; });
  std::string text = nlohmann::json(failing).dump();
  int64_t lease = cluster_->membership_lease();
  if (health_view_.in_flight || lease == 0 ||
      (text == health_view_.text && lease == health_view_.lease)) {
    return;
  }
  std::string key = cluster_->view().keys().health + config_->cluster.node;
  bool sent = cluster_->put_with_membership(key, text, [this, text, lease](bool ok) {
    health_view_.in_flight = false;
    if (!ok) return;  // tried again next tick
    health_view_.text = text;
    health_view_.lease = lease;
  });
  health_view_.in_flight = sent;
}

bool Controller::most_nodes_see_failing(const std::string& group, const std::string& address) {
  const cluster::ClusterView& view = cluster_->view();
  std::string target = group + "/" + address;
  size_t nodes = std::max<size_t>(1, view.nodes().size());
  size_t failing = 1;  // this node's own checks, which asked
  for (const auto& [node, seen] : view.health()) {
    if (node != config_->cluster.node && seen.count(target) != 0) ++failing;
  }
  bool most = failing * 2 > nodes;
  if (!most && overruled_.insert(target).second) {
    LOG_WARN(
        "autoscaling: %s fails this node's health checks but not most nodes' (%zu of %zu): "
        "not replaced",
        target.c_str(), failing, nodes);
  }
  if (most) overruled_.erase(target);
  return most;
}

}  // namespace ballast::control
