// The autoscaler in a cluster runs on the elected leader only. Its instances join their
// target groups through etcd, with writes fenced by the leader's token, so every node routes
// to them and a deposed leader cannot change what its successor manages. Each group's state is
// kept in etcd (desired capacity, cooldowns, instances with their intent), and a new leader
// goes on from it: a scale-out cut short by the leader's death is finished by its successor,
// and instances that outlive ballast (the exec provider's) are adopted, never launched twice:
// each launch is recorded before the provider is asked, and asked again with the same key.
#include <nlohmann/json.hpp>

#include "control/cluster_series.h"
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
  ++autoscaling_term_;  // answers to the previous term's writes change nothing now
  autoscaling_state_.clear();
  if (!leading) {
    // Stops acting at once and writes nothing more. Instances that outlive ballast are the
    // successor's to adopt; this node's own processes serve until the successor has
    // removed their targets, then stop.
    autoscaler_.set_cluster_link({});
    autoscaler_.step_down("this node no longer leads the autoscaler", unix_ms);
    cluster_traffic_.reset();
    cluster_series_.reset();
    return;
  }
  // The shared series start with this node's own hour; the peers send their last minute.
  cluster_series_ = std::make_unique<metrics::TimeSeriesStore>();
  copy_series(series_, shared_series(*config_), last_sampled_second_ - 3600,
              last_sampled_second_ + 1, *cluster_series_);
  cluster_traffic_ =
      std::make_unique<ClusterTraffic>(loop_, config_->admin.token, *cluster_series_);
  Autoscaler::ClusterLink link;
  link.join = [this](const std::string& group, const std::string& address, bool join) {
    join_through_cluster(group, address, join);
  };
  link.fencing_token = [this] { return cluster_->fencing_token(); };
  link.most_see_failing = [this](const std::string& group, const std::string& address) {
    return most_nodes_see_failing(group, address);
  };
  link.recorded = [this](const std::string& group, const std::string& id) {
    auto it = autoscaling_state_.find(group);
    return it != autoscaling_state_.end() && it->second.recorded_ids.count(id) != 0;
  };
  link.peer_traffic = [this](const std::string& group, const std::string& address) {
    return cluster_traffic_->take(group, address);
  };
  link.series = cluster_series_.get();
  autoscaler_.set_cluster_link(std::move(link));
  autoscaler_.configure(*config_, unix_ms);
  // The predecessor's state: its desired capacity and cooldowns go on, and its instances
  // that outlive ballast are adopted.
  std::set<std::string> adopted;  // "target group/address"
  int64_t now_ms = loop_.now_ms();
  for (const std::string& group : autoscaler_.group_names()) {
    auto it = cluster_->view().autoscaling().find(group);
    if (it == cluster_->view().autoscaling().end()) continue;
    json state = json::parse(it->second.value, nullptr, false);
    std::string before = state.is_object() ? cluster::string_field(state, "leader") : "";
    if (before.empty()) before = "the previous leader";
    std::string cause = "leadership taken over from " + before;
    for (const Autoscaler::Target& t :
         autoscaler_.take_over(group, state, cause, now_ms, unix_ms)) {
      std::string error;
      auto parsed = core::SocketAddress::parse(t.address, &error, false);
      if (parsed) adopted.insert(t.group + "/" + parsed->to_string());
    }
  }
  // The targets of the predecessor's other instances go: their processes died with it, or
  // stop once it sees their targets gone. This leader launches what the groups need.
  std::vector<cluster::Operation> stale;
  for (const auto& [name, t] : cluster_->view().targets()) {
    json v = json::parse(t.kv.value, nullptr, false);
    if (cluster::string_field(v, "owner") == "autoscaling" &&
        adopted.count(t.group + "/" + t.address) == 0) {
      stale.push_back({cluster::Operation::Kind::kDelete, t.kv.key, "", 0, false});
    }
  }
  if (!stale.empty()) {
    LOG_INFO("cluster: removing %zu target(s) of the previous leader's instances", stale.size());
    cluster_->write_fenced(stale, [](bool ok, const std::string& why) {
      if (!ok) LOG_WARN("cluster: removing the previous leader's targets: %s", why.c_str());
    });
  }
  if (!adopted.empty())
    LOG_INFO("cluster: adopted %zu instance(s) of the previous leader", adopted.size());
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
  int64_t now_ms = loop_.now_ms();
  int64_t unix_ms = core::unix_ms();
  for (const std::string& group : autoscaler_.group_names()) {
    AutoscalingStateWrite& w = autoscaling_state_[group];
    if (w.in_flight) continue;  // the next one goes once etcd has answered this one
    json state = autoscaler_.state_of(group, now_ms, unix_ms);
    state["leader"] = node;
    std::string text = state.dump();
    if (w.text == text) continue;
    w.text = text;
    w.in_flight = true;
    std::set<std::string> ids;
    for (const auto& i : state["instances"]) ids.insert(i["id"].get<std::string>());
    std::string key = cluster_->view().keys().autoscaling + group;
    cluster_->write_fenced({{cluster::Operation::Kind::kPut, key, text, 0, false}},
                           [this, group, ids = std::move(ids), term = autoscaling_term_](
                               bool ok, const std::string& why) {
                             if (term != autoscaling_term_) return;
                             AutoscalingStateWrite& done = autoscaling_state_[group];
                             done.in_flight = false;
                             if (ok) {
                               done.recorded_ids = ids;
                               return;
                             }
                             done.text.clear();  // written again next time
                             LOG_WARN("autoscaling: group \"%s\"'s state: %s", group.c_str(),
                                      why.c_str());
                           });
  }
}

}  // namespace ballast::control
