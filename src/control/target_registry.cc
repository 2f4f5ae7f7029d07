#include "control/target_registry.h"

#include <algorithm>

#include "lb/hash.h"

namespace ballast::control {

bool TargetRecord::drained() const {
  return !drained_on.empty() &&
         std::all_of(drained_on.begin(), drained_on.end(), [](bool d) { return d; });
}

health::TargetHealth GroupRecord::state_of(const TargetRecord& t) const {
  if (t.draining) return health::TargetHealth::kDraining;
  if (!used) return health::TargetHealth::kUnused;
  return t.health;
}

namespace {
TargetRecord make_record(const std::string& text, const core::SocketAddress& address,
                         uint32_t weight, bool from_config, bool checked) {
  TargetRecord t;
  t.address_text = text;
  t.address = address;
  t.id = lb::hash_bytes(text);
  t.weight = weight;
  t.from_config = from_config;
  t.health = checked ? health::TargetHealth::kInitial : health::TargetHealth::kHealthy;
  return t;
}

std::vector<bool> used_groups(const config::Config& config) {
  std::vector<bool> used(config.target_groups.size(), false);
  for (const auto& l : config.listeners) {
    for (const auto& r : l.rules) {
      if (r.action != config::RuleConfig::Action::kForward) continue;
      for (const auto& f : r.forward) used[f.target_group_index] = true;
    }
  }
  return used;
}
}  // namespace

void TargetRegistry::load(const config::Config& config, int64_t now_ms) {
  std::vector<GroupRecord> next;
  std::vector<bool> used = used_groups(config);
  for (size_t gi = 0; gi < config.target_groups.size(); ++gi) {
    const auto& gc = config.target_groups[gi];
    auto old = std::find_if(groups_.begin(), groups_.end(),
                            [&](const GroupRecord& g) { return g.name == gc.name; });
    GroupRecord g = old != groups_.end() ? std::move(*old) : GroupRecord{};
    g.name = gc.name;
    g.config_index = gi;
    g.health_source = gc.health_source;
    g.checked = (gc.health_check.enabled ||
                 gc.health_source == config::TargetGroupConfig::HealthSource::kDatabaseRole) &&
                used[gi];
    g.used = used[gi];
    g.deregistration_delay_ms = gc.deregistration_delay_ms;
    g.dirty = true;
    // Without checks every target serves. When a reload adds checks, targets that serve
    // keep serving until the checks say otherwise (a reload must not interrupt traffic).
    if (!g.checked) {
      for (auto& t : g.targets) t.health = health::TargetHealth::kHealthy;
    }
    std::vector<bool> listed(g.targets.size(), false);
    for (const auto& tc : gc.targets) {
      uint64_t id = lb::hash_bytes(tc.address_text);
      auto it = std::find_if(g.targets.begin(), g.targets.end(),
                             [&](const TargetRecord& t) { return t.id == id; });
      if (it == g.targets.end()) {
        g.targets.push_back(make_record(tc.address_text, tc.address, tc.weight, true, g.checked));
        listed.push_back(true);
        continue;
      }
      listed[static_cast<size_t>(it - g.targets.begin())] = true;
      it->weight = tc.weight;
      it->from_config = true;
      if (it->deregistering) {  // listed again: the deregistration is called off
        it->deregistering = false;
        it->draining = false;
        it->drain_version = 0;
      }
    }
    for (size_t i = 0; i < g.targets.size(); ++i) {
      TargetRecord& t = g.targets[i];
      if (listed[i] || !t.from_config || t.deregistering) continue;
      t.deregistering = true;
      start_drain(g, t, now_ms);
    }
    next.push_back(std::move(g));
  }
  groups_ = std::move(next);
}

GroupRecord* TargetRegistry::group(const std::string& name) {
  for (auto& g : groups_) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

const GroupRecord* TargetRegistry::find_group(const std::string& name) const {
  for (const auto& g : groups_) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

TargetRecord* TargetRegistry::target(GroupRecord& g, const std::string& address) {
  uint64_t id = lb::hash_bytes(address);
  for (auto& t : g.targets) {
    if (t.id == id && t.address_text == address) return &t;
  }
  return nullptr;
}

namespace {
using Outcome = TargetRegistry::Outcome;
Outcome failure(Outcome::Code code, std::string message) {
  return Outcome{code, std::move(message)};
}
// A database endpoint's members are its configuration's, and their roles decide the rest.
Outcome refuse_if_database(const GroupRecord& g) {
  if (g.health_source != config::TargetGroupConfig::HealthSource::kDatabaseRole) return {};
  return failure(Outcome::Code::kConflict,
                 "target group \"" + g.name +
                     "\" is a database endpoint: its members come from the databases section, "
                     "and their roles decide which serve");
}

Outcome weight_out_of_range(uint32_t weight) {
  return failure(Outcome::Code::kInvalid,
                 "weight " + std::to_string(weight) + " is out of range (0 to 1000000)");
}
}  // namespace

std::pair<GroupRecord*, TargetRecord*> TargetRegistry::lookup(const std::string& group_name,
                                                              const std::string& address,
                                                              Outcome* outcome) {
  GroupRecord* g = group(group_name);
  if (g == nullptr) {
    *outcome = failure(Outcome::Code::kNotFound, "no target group named \"" + group_name + "\"");
    return {nullptr, nullptr};
  }
  if (Outcome refused = refuse_if_database(*g); !refused.ok()) {
    *outcome = refused;
    return {g, nullptr};
  }
  TargetRecord* t = target(*g, address);
  if (t == nullptr) {
    *outcome = failure(Outcome::Code::kNotFound,
                       "target group \"" + group_name + "\" has no target " + address);
  }
  return {g, t};
}

void TargetRegistry::start_drain(GroupRecord& g, TargetRecord& t, int64_t now_ms) {
  if (!t.draining) {
    t.draining = true;
    t.drain_started_ms = now_ms;
    t.drain_version = 0;
    t.drained_on.assign(workers_, false);
  }
  t.drain_deadline_ms = t.drain_started_ms + g.deregistration_delay_ms;
  g.dirty = true;
}

Outcome TargetRegistry::register_target(const std::string& group_name, const std::string& address,
                                        uint32_t weight, const std::string& owner) {
  GroupRecord* g = group(group_name);
  if (g == nullptr) {
    return failure(Outcome::Code::kNotFound, "no target group named \"" + group_name + "\"");
  }
  if (Outcome refused = refuse_if_database(*g); !refused.ok()) return refused;
  // Numeric addresses only: resolving a name would block the control thread.
  std::string error;
  auto parsed = core::SocketAddress::parse(address, &error, /*resolve=*/false);
  if (!parsed) return failure(Outcome::Code::kInvalid, "target \"" + address + "\": " + error);
  if (parsed->is_wildcard() || parsed->port() == 0) {
    return failure(Outcome::Code::kInvalid,
                   "target \"" + address + "\": needs a specific address and a port");
  }
  if (weight > 1000000) return weight_out_of_range(weight);
  std::string canonical = parsed->to_string();
  if (TargetRecord* existing = target(*g, canonical)) {
    if (!existing->deregistering) {
      return failure(Outcome::Code::kConflict,
                     "target " + canonical + " is already registered in \"" + group_name + "\"");
    }
    // Registering a target that is being deregistered takes it back into service.
    existing->deregistering = existing->draining = false;
    existing->drain_version = 0;
    existing->weight = weight;
    existing->owner = owner;
    g->dirty = true;
    return {};
  }
  g->targets.push_back(make_record(canonical, *parsed, weight, false, g->checked));
  g->targets.back().owner = owner;
  g->dirty = true;
  return {};
}

Outcome TargetRegistry::deregister_target(const std::string& group_name, const std::string& address,
                                          int64_t now_ms) {
  Outcome outcome;
  auto [g, t] = lookup(group_name, address, &outcome);
  if (t == nullptr) return outcome;
  t->deregistering = true;
  start_drain(*g, *t, now_ms);
  return outcome;
}

Outcome TargetRegistry::set_weight(const std::string& group_name, const std::string& address,
                                   uint32_t weight) {
  Outcome outcome;
  auto [g, t] = lookup(group_name, address, &outcome);
  if (t == nullptr) return outcome;
  if (weight > 1000000) return weight_out_of_range(weight);
  t->weight = weight;
  g->dirty = true;
  return outcome;
}

Outcome TargetRegistry::drain(const std::string& group_name, const std::string& address,
                              int64_t now_ms) {
  Outcome outcome;
  auto [g, t] = lookup(group_name, address, &outcome);
  if (t == nullptr) return outcome;
  if (!t->draining) start_drain(*g, *t, now_ms);
  return outcome;
}

Outcome TargetRegistry::undrain(const std::string& group_name, const std::string& address) {
  Outcome outcome;
  auto [g, t] = lookup(group_name, address, &outcome);
  if (t == nullptr) return outcome;
  if (t->deregistering) {
    return failure(Outcome::Code::kInvalid,
                   "target " + address + " is being deregistered; register it again");
  }
  t->draining = false;
  t->drain_version = 0;
  g->dirty = true;
  return outcome;
}

std::vector<std::string> TargetRegistry::set_database_members(
    const std::string& group_name, const std::vector<std::string>& addresses, int64_t now_ms) {
  std::vector<std::string> refused;
  GroupRecord* g = group(group_name);
  if (g == nullptr) return refused;
  std::vector<uint64_t> wanted;
  for (const std::string& text : addresses) {
    std::string error;
    auto parsed = core::SocketAddress::parse(text, &error, /*resolve=*/false);
    if (!parsed || parsed->is_wildcard() || parsed->port() == 0) {
      refused.push_back(text);
      continue;
    }
    wanted.push_back(lb::hash_bytes(text));
    TargetRecord* t = target(*g, text);
    if (t != nullptr && !t->deregistering) continue;
    if (t != nullptr) {  // found again before it was removed
      t->deregistering = t->draining = false;
      t->drain_version = 0;
    } else {
      g->targets.push_back(make_record(text, *parsed, 1, false, true));
    }
    g->dirty = true;
  }
  for (auto& t : g->targets) {
    if (t.from_config || t.deregistering) continue;
    if (std::find(wanted.begin(), wanted.end(), t.id) != wanted.end()) continue;
    t.deregistering = true;
    start_drain(*g, t, now_ms);  // deregistration_delay is 0: removed at the next sweep
  }
  return refused;
}

void TargetRegistry::set_health(const std::string& group_name, uint64_t id,
                                health::TargetHealth state, health::HealthReason reason,
                                const std::string& detail) {
  GroupRecord* g = group(group_name);
  if (g == nullptr) return;
  for (auto& t : g->targets) {
    if (t.id != id) continue;
    t.health = state;
    t.reason = reason;
    t.detail = state == health::TargetHealth::kHealthy ? std::string() : detail;
    g->dirty = true;
  }
}

void TargetRegistry::drained(const std::string& group_name, uint64_t id, uint64_t version,
                             unsigned worker) {
  GroupRecord* g = group(group_name);
  if (g == nullptr) return;
  for (auto& t : g->targets) {
    // A report about an older drain (undrained and drained again since) does not count.
    if (t.id != id || !t.draining || t.drain_version == 0 || version < t.drain_version) continue;
    if (worker < t.drained_on.size()) t.drained_on[worker] = true;
  }
}

std::vector<std::string> TargetRegistry::remove_finished(int64_t now_ms) {
  std::vector<std::string> removed;
  for (auto& g : groups_) {
    auto done = [&](const TargetRecord& t) {
      return t.deregistering && (t.drained() || now_ms >= t.drain_deadline_ms);
    };
    for (const auto& t : g.targets) {
      if (done(t)) removed.push_back(g.name + "/" + t.address_text);
    }
    auto end = std::remove_if(g.targets.begin(), g.targets.end(), done);
    if (end != g.targets.end()) {
      g.targets.erase(end, g.targets.end());
      g.dirty = true;
    }
  }
  return removed;
}

proxy::GroupMembership TargetRegistry::membership(const GroupRecord& g) const {
  proxy::GroupMembership m;
  m.version = g.version;
  for (const auto& t : g.targets) {
    // Workers see what decides routing: draining, else what the checks say (an unchecked
    // target serves; so does one in a group no rule uses yet, should a reload use it).
    health::TargetHealth state = t.draining  ? health::TargetHealth::kDraining
                                 : g.checked ? t.health
                                             : health::TargetHealth::kHealthy;
    m.members.push_back(proxy::Member{t.address_text, t.address, t.id, t.weight, state});
  }
  return m;
}

std::vector<std::pair<size_t, std::shared_ptr<const proxy::GroupMembership>>>
TargetRegistry::take_changes() {
  std::vector<std::pair<size_t, std::shared_ptr<const proxy::GroupMembership>>> out;
  for (auto& g : groups_) {
    if (!g.dirty) continue;
    g.dirty = false;
    g.version = next_version_++;
    for (auto& t : g.targets) {
      if (t.draining && t.drain_version == 0) t.drain_version = g.version;
    }
    out.emplace_back(g.config_index, std::make_shared<proxy::GroupMembership>(membership(g)));
  }
  return out;
}

}  // namespace ballast::control
