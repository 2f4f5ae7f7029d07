#include "control/writer_nat.h"

#include <ifaddrs.h>

#include <algorithm>

#include "core/log.h"

namespace ballast::control {

namespace {

const char* reach_name(nat::NatReach r) {
  return r == nat::NatReach::kAllClients ? "all" : "local";
}

}  // namespace

bool WriterNat::ready() {
  if (!loaded_) {
    loaded_ = true;
    redirect_ = nat::ConnectRedirect::load(&redirect_refusal_);
    if (redirect_) {
      LOG_INFO("relay: nat: this host's writer clients are redirected at connect()");
    } else {
      LOG_WARN("relay: nat: no connect() redirect (%s); this host's clients use the NAT rule",
               redirect_refusal_.c_str());
    }
    table_ = nat::NatTable::create(&table_refusal_);
    if (table_) {
      LOG_INFO("relay: nat: nftables table %s (removed by the kernel when ballast exits)",
               table_->name().c_str());
    } else {
      LOG_WARN("relay: nat: no NAT rules (%s)", table_refusal_.c_str());
    }
    if (!redirect_ && !table_) {
      LOG_WARN("relay: nat: writer endpoints relay their connections in the kernel instead");
    }
  }
  return redirect_ || table_;
}

std::optional<core::SocketAddress> WriterNat::target_of(const db::DatabaseMonitor& monitor,
                                                        std::string* why) const {
  const db::DatabaseState& s = monitor.state();
  if (!redirect_ && !table_) {
    *why = redirect_refusal_ + "; " + table_refusal_;
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
  if (!primary) *why = "the primary's address " + m.address + ": " + error;
  return primary;
}

void WriterNat::follow(const db::DatabaseMonitor& monitor) {
  const config::DatabaseConfig& d = monitor.config();
  if (d.writer_path != config::DatabaseConfig::WriterPath::kNat || !d.writer.enabled) {
    if (writers_.erase(d.name) != 0) apply();
    return;
  }
  ready();
  Writer& w = writers_[d.name];
  bool rebound = !(w.bind == d.writer.bind);  // a reload moved the endpoint
  w.bind = d.writer.bind;
  std::string why;
  std::optional<core::SocketAddress> primary = target_of(monitor, &why);
  std::optional<nat::NatRoute> route;
  if (primary && table_) {
    nat::NatPlan plan = nat::plan_nat(w.bind, *primary, nat::host_forwards(primary->family()));
    why = plan.why;
    if (plan.reach != nat::NatReach::kNone) {
      route = nat::NatRoute{counter_of(d.name), w.bind, *primary, plan.reach};
    }
    // The redirect takes every client of this host: what NAT leaves is other hosts'.
    if (redirect_) {
      bool all = plan.reach == nat::NatReach::kAllClients || nat::is_loopback(w.bind);
      why = all ? "" : "connections from other hosts are relayed (" + plan.why + ")";
    }
  }
  if (primary && !table_ && !nat::is_loopback(w.bind)) {
    why = "connections from other hosts are relayed: " + table_refusal_;
  }
  bool moved = rebound || primary != w.primary_address || route != w.route;
  w.primary_address = primary;
  w.route = std::move(route);
  w.why = std::move(why);
  w.primary = primary ? monitor.state().members()[*monitor.state().writer()].name : "";
  if (moved) {
    apply();
    if (primary) {
      LOG_INFO("database \"%s\": new writer connections go to %s (%s) without ballast%s%s",
               d.name.c_str(), w.primary.c_str(), primary->to_string().c_str(),
               w.why.empty() ? "" : "; ", w.why.c_str());
    } else {
      LOG_INFO("database \"%s\": writer connections go through ballast: %s", d.name.c_str(),
               w.why.c_str());
    }
  }
  // After the routes moved, so that no new connection to a fenced member starts after.
  cut_fenced(monitor, w);
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
    int cut = 0;
    if (redirect_) {
      int closed = redirect_->close_flows_to(*member, &error);
      if (!error.empty()) {
        LOG_WARN(
            "database \"%s\": could not close the redirected connections to fenced "
            "member %s: %s",
            monitor.config().name.c_str(), m.name.c_str(), error.c_str());
      }
      cut += closed;
    }
    if (table_) {
      error.clear();
      int deleted = nat::cut_nat_flows(w.bind, *member, &error);
      if (deleted < 0) {
        LOG_WARN("database \"%s\": could not cut the NATed flows to fenced member %s: %s",
                 monitor.config().name.c_str(), m.name.c_str(), error.c_str());
      }
      cut += std::max(deleted, 0);
    }
    if (cut > 0) {
      w.cut_flows += static_cast<uint64_t>(cut);
      LOG_INFO("database \"%s\": member %s was fenced; %d connection(s) to it closed",
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

std::vector<core::SocketAddress> WriterNat::local_addresses(const core::SocketAddress& bind) {
  if (!bind.is_wildcard()) return {bind};
  std::vector<core::SocketAddress> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    int family = i->ifa_addr->sa_family;
    // A wildcard IPv6 bind takes IPv4 connections too (dual stack).
    bool taken = family == bind.family() || (family == AF_INET && bind.family() == AF_INET6);
    if (!taken) continue;
    socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    out.push_back(core::SocketAddress::from_sockaddr(i->ifa_addr, len).with_port(bind.port()));
  }
  freeifaddrs(list);
  return out;
}

void WriterNat::apply() {
  std::string why;
  if (redirect_) {
    std::vector<nat::ConnectRedirect::Route> routes;
    for (auto& [name, w] : writers_) {
      // Without a primary the addresses stay as they were: their counts are still the
      // writer's (ConnectRedirect keeps a removed route's total).
      if (!w.primary_address) continue;
      w.redirected_from.clear();
      for (const core::SocketAddress& from : local_addresses(w.bind)) {
        if (from.family() != w.primary_address->family()) continue;
        w.redirected_from.push_back(from);
        routes.push_back({from, *w.primary_address});
      }
    }
    // On failure the routes stay as they were; the next change tries again.
    if (!redirect_->set_routes(routes, &why)) LOG_ERROR("relay: nat: %s", why.c_str());
  }
  if (table_) {
    std::vector<nat::NatRoute> routes;
    std::vector<std::string> counters;
    for (const auto& [name, w] : writers_) {
      counters.push_back(counter_of(name));
      if (w.route) routes.push_back(*w.route);
    }
    if (!table_->set_routes(routes, counters, &why)) LOG_ERROR("relay: nat: %s", why.c_str());
  }
}

void WriterNat::sweep() {
  if (redirect_ && !writers_.empty()) redirect_->sweep();
}

std::map<std::string, WriterNat::View> WriterNat::views() const {
  std::map<std::string, uint64_t> counted;
  if (table_ && !writers_.empty()) counted = table_->connections();
  std::map<std::string, View> out;
  for (const auto& [name, w] : writers_) {
    View& v = out[name];
    v.steering = w.primary_address.has_value();
    v.primary = w.primary;
    v.local_redirect = v.steering && redirect_ != nullptr;
    v.reach = w.route ? reach_name(w.route->reach) : "";
    v.why = w.why;
    v.cut_flows = w.cut_flows;
    auto c = counted.find(counter_of(name));
    if (c != counted.end()) v.connections = c->second;
    if (redirect_) {
      for (const core::SocketAddress& from : w.redirected_from) {
        v.redirected += redirect_->connections(from);
      }
    }
    v.connections += v.redirected;
  }
  return out;
}

}  // namespace ballast::control
