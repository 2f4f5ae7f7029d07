#include "nat/nat_ruleset.h"

#include <set>

namespace ballast::nat {

namespace {

bool v4(const core::SocketAddress& a) {
  return a.family() == AF_INET;
}

// What a route's DNAT rule matches: connections to the bind's port, on its address (or, for
// a wildcard bind, on the addresses NAT can carry to this primary).
std::string match(const NatRoute& r) {
  std::string proto = v4(r.primary) ? "ip" : "ip6";
  std::string loopback = v4(r.primary) ? "127.0.0.0/8" : "::1";
  std::string m;
  if (!r.bind.is_wildcard()) {
    m = proto + " daddr " + r.bind.ip_string();
  } else if (is_loopback(r.primary)) {
    m = proto + " daddr " + loopback;
  } else {
    m = "fib daddr type local " + proto + " daddr != " + loopback;
  }
  return m + " tcp dport " + std::to_string(r.bind.port());
}

std::string dnat(const NatRoute& r) {
  return "counter name " + r.counter + " dnat " + (v4(r.primary) ? "ip" : "ip6") + " to " +
         r.primary.to_string();
}

// Replies from a primary on another host must come back through this one to be un-NATed:
// its flows leave with this host's address as their source.
std::string masquerade(const NatRoute& r) {
  std::string proto = v4(r.primary) ? "ip" : "ip6";
  std::string m = "meta l4proto tcp ct status dnat";
  if (!r.bind.is_wildcard()) m += " ct original " + proto + " daddr " + r.bind.ip_string();
  m += " ct original proto-dst " + std::to_string(r.bind.port());
  m += " " + proto + " daddr " + r.primary.ip_string() + " tcp dport " +
       std::to_string(r.primary.port());
  return m + " oifname != \"lo\" masquerade";
}

}  // namespace

std::string table_script(const std::string& table) {
  std::string t = "inet " + table;
  return "add table " + t + " { flags owner; }\n" +
         // The standard NAT priorities: dstnat (-100) and srcnat (100).
         "add chain " + t +
         " prerouting { type nat hook prerouting priority -100; policy accept; }\n" + "add chain " +
         t + " output { type nat hook output priority -100; policy accept; }\n" + "add chain " + t +
         " postrouting { type nat hook postrouting priority 100; policy accept; }\n";
}

std::string routes_script(const std::string& table, const std::vector<NatRoute>& routes,
                          const std::vector<std::string>& keep,
                          const std::vector<std::string>& drop) {
  std::string t = "inet " + table;
  std::string s;
  for (const char* chain : {"prerouting", "output", "postrouting"}) {
    s += "flush chain " + t + " " + chain + "\n";
  }
  std::set<std::string> counters(keep.begin(), keep.end());
  for (const NatRoute& r : routes) counters.insert(r.counter);
  for (const std::string& c : counters) s += "add counter " + t + " " + c + "\n";
  for (const NatRoute& r : routes) {
    s += "add rule " + t + " output " + match(r) + " " + dnat(r) + "\n";
    if (r.reach == NatReach::kAllClients) {
      s += "add rule " + t + " prerouting " + match(r) + " " + dnat(r) + "\n";
    }
    if (!is_loopback(r.primary)) s += "add rule " + t + " postrouting " + masquerade(r) + "\n";
  }
  for (const std::string& c : drop) s += "delete counter " + t + " " + c + "\n";
  return s;
}

}  // namespace ballast::nat
