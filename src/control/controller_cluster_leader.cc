// The autoscaler in a cluster runs on the elected leader only. Its instances join their
// target groups through etcd, with writes fenced by the leader's token, so every node routes
// to them and a deposed leader cannot change what its successor manages. Each group's desired
// capacity is kept in etcd, and a new leader starts from it: a scale-out cut short by the
// leader's death is finished by its successor.
#include <nlohmann/json.hpp>

#include "control/controller.h"
#include "core/clock.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

bool Controller::runs_autoscaler() const {
  return !cluster_ || cluster_->leading(core::monotonic_ms());
}

std::string Controller::not_the_leader() const {
  const std::string& leader = cluster_->leader();
  std::string where;
  auto it = cluster_->view().nodes().find(leader);
  if (it != cluster_->view().nodes().end()) {
    json about = json::parse(it->second.value, nullptr, false);
    where = cluster::string_field(about, "admin");
  }
  return "node " + config_->cluster.node + " does not run the autoscaler: " +
         (leader.empty()
              ? std::string("no node leads it right now (an election is under way)")
              : leader + " leads it" + (where.empty() ? "" : " (admin API " + where + ")"));
}

void Controller::leadership_changed(bool leading) {
  int64_t unix_ms = core::unix_ms();
  if (!leading) {
    // Stops acting at once: its instances stop (the successor replaces them and removes
    // their targets), and it writes nothing more.
    autoscaler_.stop_all();
    autoscaler_.set_cluster_link({});
    autoscaling_state_written_.clear();
    return;
  }
  autoscaler_.set_cluster_link({[this](const std::string& group, const std::string& address,
                                       bool join) { join_through_cluster(group, address, join); },
                                [this] { return cluster_->fencing_token(); },
                                [this](const std::string& group, const std::string& address) {
                                  return most_nodes_see_failing(group, address);
                                }});
  // The predecessor's instances: their targets go (their processes died with it, or stop
  // as it learns it no longer leads); this leader launches what the groups need.
  std::vector<cluster::Operation> stale;
  for (const auto& [name, t] : cluster_->view().targets()) {
    json v = json::parse(t.kv.value, nullptr, false);
    if (cluster::string_field(v, "owner") == "autoscaling") {
      stale.push_back({cluster::Operation::Kind::kDelete, t.kv.key, "", 0, false});
    }
  }
  if (!stale.empty()) {
    LOG_INFO("cluster: removing %zu target(s) of the previous leader's instances", stale.size());
    cluster_->write_fenced(stale, [](bool ok, const std::string& why) {
      if (!ok) LOG_WARN("cluster: removing the previous leader's targets: %s", why.c_str());
    });
  }
  autoscaler_.configure(*config_, unix_ms);
  for (const std::string& group : autoscaler_.group_names()) {
    auto it = cluster_->view().autoscaling().find(group);
    if (it == cluster_->view().autoscaling().end()) continue;
    json state = json::parse(it->second.value, nullptr, false);
    if (!state.is_object() || !state.contains("desired") || !state["desired"].is_number_integer())
      continue;
    std::string before = cluster::string_field(state, "leader");
    if (before.empty()) before = "the previous leader";
    autoscaler_.restore_desired(
        group, state["desired"].get<int>(),
        "leadership taken over from " + before + ": its desired capacity continues");
  }
}

void Controller::join_through_cluster(const std::string& group, const std::string& address,
                                      bool join) {
  std::string error;
  auto parsed = core::SocketAddress::parse(address, &error, false);
  if (!parsed) {
    LOG_WARN("autoscaling: instance address %s: %s", address.c_str(), error.c_str());
    return;
  }
  std::string key = cluster_->view().keys().target(group, parsed->to_string());
  cluster::Operation op{cluster::Operation::Kind::kDelete, key, "", 0, false};
  if (join) {
    op.kind = cluster::Operation::Kind::kPut;
    op.value = json{{"weight", 1}, {"draining", false}, {"owner", "autoscaling"}}.dump();
  }
  cluster_->write_fenced({op}, [key, join](bool ok, const std::string& why) {
    if (!ok) {
      LOG_WARN("autoscaling: %s %s: %s", join ? "registering" : "deregistering", key.c_str(),
               why.c_str());
    }
  });
}

void Controller::write_autoscaling_state() {
  const std::string& node = config_->cluster.node;
  for (const std::string& group : autoscaler_.group_names()) {
    json state = autoscaler_.state_of(group);
    state["leader"] = node;
    std::string text = state.dump();
    if (autoscaling_state_written_[group] == text) continue;
    autoscaling_state_written_[group] = text;
    std::string key = cluster_->view().keys().autoscaling + group;
    cluster_->write_fenced({{cluster::Operation::Kind::kPut, key, text, 0, false}},
                           [this, group](bool ok, const std::string& why) {
                             if (ok) return;
                             autoscaling_state_written_.erase(group);  // written again next time
                             LOG_WARN("autoscaling: group \"%s\"'s state: %s", group.c_str(),
                                      why.c_str());
                           });
  }
}

}  // namespace ballast::control
