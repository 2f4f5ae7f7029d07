// Cache purges in a cluster. A purge asked through any node's API is written to etcd
// (PREFIX/purges/ID, under the writer's membership lease), and every node applies it from
// its watch, as CloudFront applies an invalidation at every edge. The key stays ten minutes,
// so that a node that was cut off, or restarted from its disk tier, still applies it when it
// reads everything again; then the node that wrote it deletes it.
#include <nlohmann/json.hpp>

#include "control/api_support.h"
#include "control/controller.h"
#include "core/clock.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

admin::AdminResponse Controller::purge_through_cluster(const CachePurge& purge) {
  if (!cluster_->reachable()) return etcd_unreachable(cluster_->last_error());
  int64_t unix_ms = core::unix_ms();
  std::string id =
      config_->cluster.node + "-" + std::to_string(unix_ms) + "-" + std::to_string(++purges_sent_);
  std::string value = json{
      {"by", purge.field},
      {"value", purge.value},
      {"node", config_->cluster.node},
      {"unix_ms",
       unix_ms}}.dump();
  auto later = std::make_shared<admin::LaterAnswer>();
  // The call dies with the etcd client, which the controller owns: `this` outlives it.
  bool sent = cluster_->put_with_membership(
      cluster_->view().keys().purges + id, value, [this, later, id, purge](bool ok) {
        if (!ok) return later->give(etcd_unreachable("the purge was not written"));
        // This node's own share: from the watch if its event came first, else now.
        auto applied = applied_purges_.find(id);
        if (applied == applied_purges_.end()) {
          applied = applied_purges_.emplace(id, purge_here(purge, "cluster")).first;
        }
        admin::AdminResponse answer = purge_answer(purge, applied->second);
        LOG_INFO("API: cache purge %s sent to every node through etcd", id.c_str());
        later->give(answer);
      });
  if (!sent) return etcd_unreachable("this node has no membership lease yet");
  admin::AdminResponse pending;
  pending.later = std::move(later);
  return pending;
}

void Controller::apply_cluster_purges() {
  const auto& asked = cluster_->view().purges();
  for (auto it = applied_purges_.begin(); it != applied_purges_.end();) {
    it = asked.count(it->first) == 0 ? applied_purges_.erase(it) : std::next(it);
  }
  for (const auto& [id, kv] : asked) {
    if (applied_purges_.count(id) != 0) continue;
    json j = json::parse(kv.value, nullptr, false);
    auto by = j.is_object() ? purge_kind(j.value("by", "")) : std::nullopt;
    std::string value = j.is_object() ? j.value("value", "") : "";
    if (!by || value.empty()) {
      LOG_WARN("cluster: purge %s is not one (%s): ignored", id.c_str(), kv.value.c_str());
      applied_purges_[id] = {};
      continue;
    }
    applied_purges_[id] =
        purge_here(CachePurge{*by, j.value("by", ""), value}, ("cluster purge " + id).c_str());
  }
}

void Controller::sweep_cluster_purges(int64_t unix_ms) {
  for (const auto& [id, kv] : cluster_->view().purges()) {
    if (purges_being_deleted_.count(id) != 0) continue;
    json j = json::parse(kv.value, nullptr, false);
    if (!j.is_object() || j.value("node", "") != config_->cluster.node) continue;
    if (unix_ms - j.value("unix_ms", int64_t{0}) < kPurgeKeptMs) continue;
    purges_being_deleted_.insert(id);
    cluster::Operation remove{cluster::Operation::Kind::kDelete, kv.key, "", 0, false};
    cluster_->etcd().call(
        "/v3/kv/txn", cluster::txn_request({}, {remove}, {}),
        [this, purge = id](const cluster::Reply&) { purges_being_deleted_.erase(purge); });
  }
}

}  // namespace ballast::control
