#include "control/writer_nat.h"

#include "core/log.h"

namespace ballast::control {

namespace {

const char* reach_name(nat::NatReach r) {
  return r == nat::NatReach::kAllClients ? "all" : "local";
}

}  // namespace

bool WriterNat::ready() {
  if (table_) return true;
  if (!refusal_.empty()) return false;
  table_ = nat::NatTable::create(&refusal_);
  if (table_) {
    LOG_INFO("relay: nat: nftables table %s (removed by the kernel when ballast exits)",
             table_->name().c_str());
    return true;
  }
  LOG_WARN("relay: nat: %s; writer endpoints relay their connections in the kernel instead",
           refusal_.c_str());
  return false;
}

std::optional<nat::NatRoute> WriterNat::route_for(const db::DatabaseMonitor& monitor,
                                                  std::string* why) {
  const db::DatabaseState& s = monitor.state();
  if (!ready()) {
    *why = refusal_;
    return std::nullopt;
  }
  if (!monitor.settled()) {
    *why = "waiting for every member's first check";
    return std::nullopt;
  }
  if (!s.writer()) {
    *why = "no confirmed primary: new connections wait in ballast's listener";
    return std::nullopt;
  }
  if (s.holding_writer()) {
    *why = "a switchover holds new connections in ballast's listener";
    return std::nullopt;
  }
  const db::MemberView& m = s.members()[*s.writer()];
  std::string error;
  auto primary = core::SocketAddress::parse(m.address, &error, false);
  if (!primary) {
    *why = "the primary's address " + m.address + ": " + error;
    return std::nullopt;
  }
  const core::SocketAddress& bind = monitor.config().writer.bind;
  nat::NatPlan plan = nat::plan_nat(bind, *primary, nat::host_forwards(primary->family()));
  *why = plan.why;
  if (plan.reach == nat::NatReach::kNone) return std::nullopt;
  return nat::NatRoute{counter_of(monitor.config().name), bind, *primary, plan.reach};
}

void WriterNat::follow(const db::DatabaseMonitor& monitor) {
  const config::DatabaseConfig& d = monitor.config();
  if (d.writer_path != config::DatabaseConfig::WriterPath::kNat || !d.writer.enabled) {
    if (writers_.erase(d.name) != 0) apply();
    return;
  }
  Writer& w = writers_[d.name];
  w.bind = d.writer.bind;
  std::string why;
  std::optional<nat::NatRoute> route = route_for(monitor, &why);
  bool moved = route != w.route;
  w.route = std::move(route);
  w.why = std::move(why);
  w.primary = w.route ? monitor.state().members()[*monitor.state().writer()].name : "";
  if (moved) {
    apply();
    if (w.route) {
      LOG_INFO("database \"%s\": new writer connections go to %s (%s) by NAT (%s clients)%s%s",
               d.name.c_str(), w.primary.c_str(), w.route->primary.to_string().c_str(),
               reach_name(w.route->reach), w.why.empty() ? "" : "; ", w.why.c_str());
    } else {
      LOG_INFO("database \"%s\": no NAT for the writer: %s", d.name.c_str(), w.why.c_str());
    }
  }
  // After the rules moved, so that no new flow to a fenced member starts after its cut.
  if (table_) cut_fenced(monitor, w);
}

void WriterNat::cut_fenced(const db::DatabaseMonitor& monitor, Writer& w) {
  std::set<std::string> fenced;
  for (const db::MemberView& m : monitor.state().members()) {
    if (m.writer.state != health::TargetHealth::kFenced) continue;
    fenced.insert(m.address);
    if (w.fenced.count(m.address) != 0) continue;
    std::string error;
    auto member = core::SocketAddress::parse(m.address, &error, false);
    if (!member) continue;
    int cut = nat::cut_nat_flows(w.bind, *member, &error);
    if (cut < 0) {
      LOG_WARN("database \"%s\": could not cut the NATed flows to fenced member %s: %s",
               monitor.config().name.c_str(), m.name.c_str(), error.c_str());
    } else if (cut > 0) {
      w.cut_flows += static_cast<uint64_t>(cut);
      LOG_INFO("database \"%s\": member %s was fenced; %d NATed connection(s) to it cut",
               monitor.config().name.c_str(), m.name.c_str(), cut);
    }
  }
  w.fenced = std::move(fenced);
}

void WriterNat::keep_only(const std::set<std::string>& names) {
  bool changed = false;
  for (auto it = writers_.begin(); it != writers_.end();) {
    if (names.count(it->first) != 0) {
      ++it;
      continue;
    }
    it = writers_.erase(it);
    changed = true;
  }
  if (changed) apply();
}

void WriterNat::apply() {
  if (!table_) return;
  std::vector<nat::NatRoute> routes;
  std::vector<std::string> counters;
  for (const auto& [name, w] : writers_) {
    counters.push_back(counter_of(name));
    if (w.route) routes.push_back(*w.route);
  }
  std::string why;
  if (!table_->set_routes(routes, counters, &why)) {
    // The rules stay as they were; the next change tries again.
    LOG_ERROR("relay: nat: %s", why.c_str());
  }
}

std::map<std::string, WriterNat::View> WriterNat::views() const {
  std::map<std::string, uint64_t> counted;
  if (table_ && !writers_.empty()) counted = table_->connections();
  std::map<std::string, View> out;
  for (const auto& [name, w] : writers_) {
    View& v = out[name];
    v.steering = w.route.has_value();
    v.primary = w.primary;
    v.reach = w.route ? reach_name(w.route->reach) : "";
    v.why = w.why;
    v.cut_flows = w.cut_flows;
    auto c = counted.find(counter_of(name));
    if (c != counted.end()) v.connections = c->second;
  }
  return out;
}

}  // namespace ballast::control
