// Registered targets in a cluster. etcd holds the list (one key per target, under
// PREFIX/targets/GROUP/ADDRESS); each node makes its own registry match it, so a target
// registered through any node's API is served by every node. An API change is written as a
// compare-and-swap on the key's revision (a lost race is a 409), and answered once this
// node has applied it from its watch, like every other node.
#include <nlohmann/json.hpp>

#include "control/api_support.h"
#include "control/controller.h"
#include "core/log.h"

namespace ballast::control {

using nlohmann::json;

namespace {

// What a target's key says; missing fields take their defaults.
struct TargetValue {
  uint32_t weight = 1;
  bool draining = false;
  std::string owner;  // the autoscaling group that registered it ("": the API)

  static TargetValue parse(const std::string& text) {
    TargetValue v;
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) return v;
    if (j.contains("weight") && j["weight"].is_number_unsigned()) {
      v.weight = static_cast<uint32_t>(std::min<uint64_t>(j["weight"].get<uint64_t>(), 1000000));
    }
    if (j.contains("draining") && j["draining"].is_boolean()) v.draining = j["draining"];
    if (j.contains("owner") && j["owner"].is_string()) v.owner = j["owner"];
    return v;
  }
  std::string dump() const {
    return json{{"weight", weight}, {"draining", draining}, {"owner", owner}}.dump();
  }
};

}  // namespace

admin::AdminResponse Controller::change_cluster_target(const TargetOp& op) {
  if (!cluster_->reachable()) return etcd_unreachable(cluster_->last_error());
  // The registry's own checks (the group, the address, the weight, the target's state), on
  // a copy: this node changes only when the watch brings the change back.
  TargetRegistry scratch = registry_;
  TargetRegistry::Outcome outcome = apply_target_op(scratch, op, loop_.now_ms());
  if (!outcome.ok()) return target_change(op.group, outcome, 200, {}, "");
  std::string error;
  std::string address = core::SocketAddress::parse(op.address, &error, false)->to_string();
  const cluster::ClusterKeys& keys = cluster_->view().keys();
  const cluster::RegisteredTarget* current = cluster_->view().target(op.group, address);
  std::string key = keys.target(op.group, address);

  cluster::Compare guard{key, cluster::Compare::Target::kModRevision, 0, ""};
  cluster::Operation write{cluster::Operation::Kind::kPut, key, "", 0, false};
  if (op.kind == TargetOp::Kind::kRegister) {
    // Absent, or being deregistered (its key is gone already): the key must not exist.
    guard.target = cluster::Compare::Target::kCreateRevision;
    write.value = TargetValue{op.weight, false, ""}.dump();
  } else {
    if (current == nullptr) {
      return admin::error_response(409, "target " + address + " comes from the shared " +
                                            "configuration: change it there (ballast cluster "
                                            "import)");
    }
    guard.revision = current->kv.mod_revision;
    TargetValue v = TargetValue::parse(current->kv.value);
    if (op.kind == TargetOp::Kind::kDeregister) write.kind = cluster::Operation::Kind::kDelete;
    if (op.kind == TargetOp::Kind::kWeight) v.weight = op.weight;
    if (op.kind == TargetOp::Kind::kDrain) v.draining = true;
    if (op.kind == TargetOp::Kind::kUndrain) v.draining = false;
    write.value = v.dump();
  }
  auto later = std::make_shared<admin::LaterAnswer>();
  // The call dies with the etcd client, which the controller owns: `this` outlives it.
  cluster_->etcd().call(
      "/v3/kv/txn", cluster::txn_request({guard}, {write}, {}),
      [this, later, op, key](const cluster::Reply& r) {
        if (!r.ok) return later->give(etcd_unreachable(r.error));
        cluster::TxnReply txn;
        try {
          txn = cluster::parse_txn(r.body);
        } catch (const cluster::CodecError& e) {
          return later->give(admin::error_response(502, std::string("etcd: ") + e.what()));
        }
        if (!txn.succeeded) {
          return later->give(admin::error_response(
              409, key + " changed meanwhile (another node or client changed it first): read "
                         "it again and retry"));
        }
        when_seen(txn.header.revision, [this, later, op] {
          TargetOp::Answer a = op.answer();
          LOG_INFO("API: %s in target group \"%s\" (through etcd)", a.what.c_str(),
                   op.group.c_str());
          later->give(ok_json(a.body, a.status, cluster_targets_in_effect_));
        });
      });
  admin::AdminResponse pending;
  pending.later = std::move(later);
  return pending;
}

void Controller::sync_cluster_targets() {
  if (!cluster_) return;
  const auto& wanted = cluster_->view().targets();
  int64_t now = loop_.now_ms();
  bool changed = false;
  for (const auto& g : registry_.groups()) {
    // Copied: the registry's records move as it changes.
    std::vector<std::pair<std::string, TargetRecord>> present;
    for (const auto& t : g.targets) {
      if (!t.from_config) present.emplace_back(g.name, t);
    }
    for (const auto& [group, t] : present) {
      if (t.deregistering || wanted.count(group + "/" + t.address_text) != 0) continue;
      changed |= registry_.deregister_target(group, t.address_text, now).ok();
    }
  }
  for (const auto& [name, target] : wanted) {
    const GroupRecord* g = registry_.find_group(target.group);
    if (g == nullptr) continue;  // a group the configuration does not have (yet)
    TargetValue v = TargetValue::parse(target.kv.value);
    const TargetRecord* t = nullptr;
    for (const auto& r : g->targets) {
      if (r.address_text == target.address) t = &r;
    }
    if (t == nullptr || t->deregistering) {
      auto outcome = registry_.register_target(target.group, target.address, v.weight, v.owner);
      if (!outcome.ok()) {
        LOG_WARN("cluster: target %s: %s", name.c_str(), outcome.message.c_str());
        continue;
      }
      changed = true;
      if (v.draining) registry_.drain(target.group, target.address, now);
      continue;
    }
    if (t->from_config) continue;  // the shared configuration lists it as well
    if (t->weight != v.weight)
      changed |= registry_.set_weight(target.group, target.address, v.weight).ok();
    if (t->draining != v.draining) {
      changed |= (v.draining ? registry_.drain(target.group, target.address, now)
                             : registry_.undrain(target.group, target.address))
                     .ok();
    }
  }
  if (!changed) return;
  cluster_snapshot_stale_ = true;  // saved on the next tick: one write for a burst of changes
  auto in_effect = publish();
  sync_checkers();
  if (in_effect) cluster_targets_in_effect_ = std::move(in_effect);
}

void Controller::when_seen(int64_t revision, std::function<void()> fn) {
  if (cluster_->view().revision() >= revision) return fn();
  revision_waiters_.emplace_back(revision, std::move(fn));
}

void Controller::cluster_progressed() {
  int64_t seen = cluster_->view().revision();
  std::vector<std::function<void()>> ready;
  for (auto it = revision_waiters_.begin(); it != revision_waiters_.end();) {
    if (it->first <= seen) {
      ready.push_back(std::move(it->second));
      it = revision_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& fn : ready) fn();
}

}  // namespace ballast::control
