#include "cluster/cluster_view.h"

#include <algorithm>

namespace ballast::cluster {

ClusterKeys::ClusterKeys(std::string p)
    : prefix(std::move(p)),
      all(prefix + "/"),
      config(prefix + "/config"),
      nodes(prefix + "/nodes/"),
      leader(prefix + "/leader"),
      targets(prefix + "/targets/"),
      autoscaling(prefix + "/autoscaling/"),
      health(prefix + "/health/"),
      purges(prefix + "/purges/") {}

const RegisteredTarget* ClusterView::target(const std::string& group,
                                            const std::string& address) const {
  auto it = targets_.find(group + "/" + address);
  return it == targets_.end() ? nullptr : &it->second;
}

void ClusterView::assume(uint64_t cluster_id, int64_t config_revision, const std::string& text,
                         const std::vector<KeyValue>& targets) {
  cluster_id_ = cluster_id;
  KeyValue kv;
  kv.key = keys_.config;
  kv.value = text;
  kv.mod_revision = config_revision;
  config_ = kv;
  revision_ = config_revision;
  for (const auto& t : targets) {
    if (t.key.rfind(keys_.targets, 0) != 0) continue;  // another prefix's: not this cluster's
    put(t);
    revision_ = std::max(revision_, t.mod_revision);
  }
}

std::string ClusterView::inconsistency(const Header& header) const {
  if (cluster_id_ != 0 && header.cluster_id != cluster_id_) {
    return "etcd's cluster id changed from " + std::to_string(cluster_id_) + " to " +
           std::to_string(header.cluster_id) + " (a rebuilt or different cluster)";
  }
  if (header.revision < revision_) {
    return "etcd's revision went back from " + std::to_string(revision_) + " to " +
           std::to_string(header.revision) + " (restored from a backup?)";
  }
  return {};
}

void ClusterView::adopt_identity(const Header& header) {
  cluster_id_ = header.cluster_id;
  revision_ = header.revision;
}

ViewChange ClusterView::load(const RangeReply& reply) {
  std::optional<KeyValue> old_config = config_;
  nodes_.clear();
  leader_.reset();
  config_.reset();
  targets_.clear();
  autoscaling_.clear();
  health_.clear();
  purges_.clear();
  for (const auto& kv : reply.kvs) put(kv);
  revision_ = reply.header.revision;
  if (!config_) return old_config ? ViewChange::kConfigDeleted : ViewChange::kNone;
  bool same = old_config && old_config->mod_revision == config_->mod_revision &&
              old_config->value == config_->value;
  return same ? ViewChange::kNone : ViewChange::kConfig;
}

ViewChange ClusterView::apply(const WatchEvent& event) {
  if (event.kv.mod_revision != 0 && event.kv.mod_revision < revision_) return ViewChange::kNone;
  if (event.kv.mod_revision > revision_) revision_ = event.kv.mod_revision;
  if (event.type == WatchEvent::Type::kDelete) return remove(event.kv.key);
  return put(event.kv);
}

void ClusterView::seen_revision(int64_t revision) {
  if (revision > revision_) revision_ = revision;
}

ViewChange ClusterView::put(const KeyValue& kv) {
  if (kv.key == keys_.config) {
    config_ = kv;
    return ViewChange::kConfig;
  }
  if (kv.key == keys_.leader) {
    leader_ = kv;
    return ViewChange::kMembers;
  }
  if (kv.key.rfind(keys_.nodes, 0) == 0 && kv.key.size() > keys_.nodes.size()) {
    nodes_[kv.key.substr(keys_.nodes.size())] = kv;
    return ViewChange::kMembers;
  }
  if (kv.key.rfind(keys_.health, 0) == 0 && kv.key.size() > keys_.health.size()) {
    std::set<std::string>& failing = health_[kv.key.substr(keys_.health.size())];
    failing.clear();
    nlohmann::json list = nlohmann::json::parse(kv.value, nullptr, false);
    if (list.is_array()) {
      for (const auto& item : list) {
        if (item.is_string()) failing.insert(item.get<std::string>());
      }
    }
    return ViewChange::kMembers;
  }
  if (kv.key.rfind(keys_.autoscaling, 0) == 0 && kv.key.size() > keys_.autoscaling.size()) {
    autoscaling_[kv.key.substr(keys_.autoscaling.size())] = kv;
    return ViewChange::kNone;
  }
  if (kv.key.rfind(keys_.purges, 0) == 0 && kv.key.size() > keys_.purges.size()) {
    purges_[kv.key.substr(keys_.purges.size())] = kv;
    return ViewChange::kPurges;
  }
  if (kv.key.rfind(keys_.targets, 0) == 0) {
    std::string rest = kv.key.substr(keys_.targets.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == rest.size()) {
      return ViewChange::kNone;  // not a GROUP/ADDRESS key: not ours to read
    }
    targets_[rest] = RegisteredTarget{rest.substr(0, slash), rest.substr(slash + 1), kv};
    return ViewChange::kTargets;
  }
  return ViewChange::kNone;
}

ViewChange ClusterView::remove(const std::string& key) {
  if (key == keys_.config) {
    config_.reset();
    return ViewChange::kConfigDeleted;
  }
  if (key == keys_.leader) {
    leader_.reset();
    return ViewChange::kMembers;
  }
  if (key.rfind(keys_.nodes, 0) == 0) {
    nodes_.erase(key.substr(keys_.nodes.size()));
    return ViewChange::kMembers;
  }
  if (key.rfind(keys_.health, 0) == 0) {
    health_.erase(key.substr(keys_.health.size()));
    return ViewChange::kMembers;
  }
  if (key.rfind(keys_.autoscaling, 0) == 0) {
    autoscaling_.erase(key.substr(keys_.autoscaling.size()));
    return ViewChange::kNone;
  }
  if (key.rfind(keys_.purges, 0) == 0) {
    return purges_.erase(key.substr(keys_.purges.size())) != 0 ? ViewChange::kPurges
                                                               : ViewChange::kNone;
  }
  if (key.rfind(keys_.targets, 0) == 0) {
    return targets_.erase(key.substr(keys_.targets.size())) != 0 ? ViewChange::kTargets
                                                                 : ViewChange::kNone;
  }
  return ViewChange::kNone;
}

}  // namespace ballast::cluster
